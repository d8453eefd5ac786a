"""Sphinx extension: tell the notebooks executed for the website to render sliders as static HTML.

The kernels that jupyter-book starts inherit this process's environment, so setting the variable
here reaches every executed notebook. tools/nbhelpers.py's ``slider_figure`` reads it.
"""

import os

STATIC_WIDGETS_ENV = "DEEPTRAIN_STATIC_WIDGETS"


def setup(app):
    os.environ[STATIC_WIDGETS_ENV] = "1"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
