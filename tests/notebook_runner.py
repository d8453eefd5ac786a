"""Execute notebooks for the tests, on the live ipywidgets path that Colab and Jupyter users get.

The kernel's environment is passed explicitly, never taken from a mutated ``os.environ``: the
website's static-slider switch cannot leak into these runs.
"""

import copy
import os
import time

import nbformat
from nbclient import NotebookClient

from tools.nbhelpers import STATIC_WIDGETS_ENV


def live_env(**extra):
    """The environment of a Colab-like kernel: this one's, without the static-slider switch."""
    env = {k: v for k, v in os.environ.items() if k != STATIC_WIDGETS_ENV}
    env.update(extra)
    return env


class Kernel:
    """One kernel, cells executed one at a time; ``run`` returns the executed copy of a cell."""

    def __init__(self, nb, cwd, timeout=300, env=None):
        self.client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(cwd)}})
        self.env = env if env is not None else live_env()
        self._context = None

    def __enter__(self):
        self._context = self.client.setup_kernel(env=self.env)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    def run(self, cell, index):
        cell = copy.deepcopy(cell)
        cell.outputs = []
        self.client.execute_cell(cell, index)
        return cell


def execute(path, cwd, timeout=300, env=None):
    """Run every cell of ``path`` in ``cwd`` (errors recorded, not raised); returns (notebook, seconds)."""
    nb = nbformat.read(str(path), as_version=4)
    start = time.perf_counter()
    with Kernel(nb, cwd, timeout, env) as kernel:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                nb.cells[index] = kernel.run(cell, index)
    return nb, time.perf_counter() - start


def text_outputs(cell):
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
        elif output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


def cell_errors(cell):
    return [(o["ename"], o["evalue"]) for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def errors(nb):
    """(cell index, ename, evalue) of every error output."""
    return [(index, *error) for index, cell in enumerate(nb.cells) for error in cell_errors(cell)]
