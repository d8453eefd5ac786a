"""Sphinx extension: the website's notebooks run in a kernel that draws sliders as static HTML.

The switch is a kernel of its own, not a change to this process's environment: the extension
installs (if needed) a kernelspec named ``STATIC_KERNEL`` whose ``env`` sets
``DEEPTRAIN_STATIC_WIDGETS=1``, and ``_config.yml`` maps every notebook's ``python3`` kernel to it
through myst-nb's ``nb_kernel_rgx_aliases``. Nothing else run from this Python process, tests
included, sees the variable; ``tools/nbhelpers.py``'s ``slider_figure`` reads it in the kernel.
"""

import json
import sys
import tempfile
from pathlib import Path

STATIC_WIDGETS_ENV = "DEEPTRAIN_STATIC_WIDGETS"
STATIC_KERNEL = "deeptrain-static-sliders"


def kernel_spec():
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (website build: static sliders)",
        "language": "python",
        "env": {STATIC_WIDGETS_ENV: "1"},
        "metadata": {"debugger": False},
    }


def ensure_kernel(prefix=sys.prefix):
    """Install the build kernel into ``prefix`` unless an identical one is there; returns its folder."""
    from jupyter_client.kernelspec import KernelSpecManager

    target = Path(prefix) / "share" / "jupyter" / "kernels" / STATIC_KERNEL / "kernel.json"
    if target.exists() and json.loads(target.read_text()) == kernel_spec():
        return target.parent
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1))
        installed = KernelSpecManager().install_kernel_spec(folder, STATIC_KERNEL, prefix=str(prefix))
    return Path(installed)


def _check_alias(app, config):
    aliases = config.nb_kernel_rgx_aliases or {}
    if aliases.get("python3") != STATIC_KERNEL:
        raise RuntimeError(f"_config.yml must map the python3 kernel to {STATIC_KERNEL!r} "
                           "(sphinx.config.nb_kernel_rgx_aliases), or the sliders stay live widgets")


def setup(app):
    ensure_kernel()
    app.connect("config-inited", _check_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
