"""``python -m tools bench``: run every chapter once and measure what a reader waits for.

Each chapter (``solutions/NN_slug.ipynb``) is copied alone into an empty temporary folder and executed
with live widgets (``DEEPTRAIN_STATIC_WIDGETS`` unset), as in Jupyter or Colab. The kernel gets
``DEEPTRAIN_BENCH``, the path of a JSON-lines file, through its environment (this process's own
environment is not changed); in that mode the notebook helpers append one record per measurement:

- ``slider_figure`` draws and renders every combination of its sliders once, timing each: the cost
  of a first visit to that value (a second visit is answered from the slider's cache);
- ``benchmark_layer`` times a NumPy layer's forward and backward pass against torch's, both on one
  thread, interleaved.

The results go to one table, printed as Markdown and written to ``_build/bench.md``, with the raw
numbers in ``_build/bench.json``. Nothing here is a test: no threshold fails the run; rows above the
slider targets are marked, and so are sliders whose wall time clearly exceeds their CPU time (other
work was competing for the CPUs: rerun on a quiet machine). The header gives the load average before
and after. The exit status is 1 only when a chapter fails to run.
"""

import importlib.metadata
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from .nbhelpers import BENCH_ENV, STATIC_WIDGETS_ENV

ROOT = Path(__file__).resolve().parent.parent
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ARROW = re.compile(r"^-+>\s*\d+\s(.*)$", re.MULTILINE)
SLIDER_TARGET_MS = {"median": 100.0, "p95": 200.0}  # first visit of a slider value, on the 2-core CI machine
CELL_TIMEOUT = 600


def chapter_paths(root, chapters=None):
    """The solution notebooks of ``root``, or those whose number is in ``chapters`` (e.g. ["01", "6"])."""
    paths = sorted((Path(root) / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if not chapters:
        return paths
    by_number = {p.name[:2]: p for p in paths}
    wanted = []
    for chapter in chapters:
        number = str(chapter).zfill(2)
        if number not in by_number:
            raise ValueError(f"no chapter {number} in {Path(root) / 'solutions'}; there are "
                             f"{', '.join(sorted(by_number)) or 'none'}")
        if by_number[number] not in wanted:
            wanted.append(by_number[number])
    return wanted


def kernel_env(records_path):
    """This process's environment for the kernel: live widgets, bench records to ``records_path``."""
    env = dict(os.environ)
    env.pop(STATIC_WIDGETS_ENV, None)
    env[BENCH_ENV] = str(records_path)
    return env


def _error_summary(nb, err):
    """One line: the failing cell's index and source line, and the exception."""
    where = ""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and not where:
                text = _ANSI.sub("", "\n".join(output.get("traceback", [])))
                arrows = _ARROW.findall(text)  # the first is the failing line of the cell itself
                line = arrows[0].strip() if arrows else ""
                where = f"cell {index}" + (f" (`{line}`)" if line else "") + ": "
    if isinstance(err, CellExecutionError):
        return f"{where}{err.ename}: {err.evalue}".strip()
    text = str(err).strip().splitlines()
    return f"{where}{type(err).__name__}: {text[-1] if text else ''}".strip()


def run_chapter(path, timeout=CELL_TIMEOUT):
    """Execute one chapter alone in a temporary folder; returns its summary (see :func:`summarize`)."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="deeptrain-bench-") as tmp:
        work, records_path = Path(tmp) / "chapter", Path(tmp) / "records.jsonl"
        work.mkdir()
        shutil.copy(path, work / path.name)
        nb = nbformat.read(str(work / path.name), as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(work)}})
        error = None
        start = time.perf_counter()
        try:
            client.execute(env=kernel_env(records_path))
        except Exception as err:  # noqa: BLE001 -- a failing chapter is reported in the table; the others still run
            error = _error_summary(nb, err)
        seconds = time.perf_counter() - start
        lines = records_path.read_text(encoding="utf-8").splitlines() if records_path.exists() else []
    return summarize(path.name, seconds, [json.loads(line) for line in lines if line.strip()], error)


def summarize(notebook, seconds, records, error=None):
    """One chapter's results from its run time and the helpers' records.

    ``run_seconds`` is the time to execute the chapter minus the time the bench's own measurements
    took inside it (``bench_seconds``), so it estimates a normal "Run all" (kernel start included).
    """
    bench_seconds = sum(r.get("bench_seconds", 0.0) for r in records)
    sliders, layers = [], []
    for record in records:
        if record.get("kind") == "slider":
            ms = np.asarray(record["ms"], dtype=float)
            cpu = np.asarray(record.get("cpu_ms", record["ms"]), dtype=float)
            sliders.append({"figure": record["figure"], "sliders": record["sliders"], "frames": record["frames"],
                            "median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
                            "max_ms": float(ms.max()), "median_cpu_ms": float(np.median(cpu)),
                            "median_png_kib": float(np.median(record["png_bytes"])) / 1024, "ms": record["ms"]})
        elif record.get("kind") == "layer":
            layers.append({key: record[key] for key in ("name", "repeat", "threads", "numpy_ms", "torch_ms", "ratio",
                                                         "numpy_runs_ms", "torch_runs_ms")})
    return {"chapter": notebook[:2], "notebook": notebook, "run_seconds": seconds - bench_seconds,
            "total_seconds": seconds, "bench_seconds": bench_seconds, "error": error,
            "sliders": sliders, "layers": layers}


def _load():
    """The 1-minute load average (None where the system has none): other work competing for the CPUs."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def machine():
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("numpy", "torch", "matplotlib", "ipywidgets"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpus": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


BUSY_RATIO = 1.3  # wall time this much above CPU time: the kernel waited for the CPU


def _slider_note(slider):
    notes = [f"{key} > {limit:.0f} ms" for key, limit in SLIDER_TARGET_MS.items() if slider[f"{key}_ms"] > limit]
    if slider["median_ms"] > BUSY_RATIO * slider["median_cpu_ms"]:
        notes.append(f"busy machine: CPU time median {slider['median_cpu_ms']:.0f} ms")
    return "; ".join(notes)


def markdown_table(results, info):
    """The Markdown report: a header line about the machine, then one table for every chapter."""
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    lines = [
        "# Bench",
        "",
        (f"{info['date']}; {info['cpus']} CPUs ({info['cpu']}); {info['platform']}; Python {info['python']}; "
         f"{versions}." + (f" Load average (1 min) {info['load_before']:.2f} before, {info['load_after']:.2f} after."
                           if info.get("load_before") is not None else "")),
        "",
        ("Run time: executing the chapter alone with live widgets, kernel start included, the bench's own "
         "measurements excluded. Slider: first visit of every value combination (draw + PNG), median and 95th "
         f"percentile; target median <= {SLIDER_TARGET_MS['median']:.0f} ms, p95 <= {SLIDER_TARGET_MS['p95']:.0f} ms. "
         "Layer: forward + backward, NumPy's median time over torch's, both on one thread."),
        "",
        "| chapter | item | n | median | p95 | NumPy / torch | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        chapter = result["chapter"]
        note = f"FAILED: {result['error']}".replace("|", "\\|") if result["error"] else ""
        lines.append(f"| {chapter} | run time | 1 | {result['run_seconds']:.1f} s |  |  | {note} |")
        for s in result["sliders"]:
            what = f"slider `{s['figure']}` ({', '.join(s['sliders'])})"
            lines.append(f"| {chapter} | {what} | {s['frames']} frames | {s['median_ms']:.0f} ms | {s['p95_ms']:.0f} ms "
                         f"|  | {_slider_note(s)} |")
        for layer in result["layers"]:
            lines.append(f"| {chapter} | layer {layer['name']} | {layer['repeat']} runs | NumPy {layer['numpy_ms']:.3g} ms, "
                         f"torch {layer['torch_ms']:.3g} ms |  | {layer['ratio']:.2f} |  |")
    total = sum(r["run_seconds"] for r in results)
    lines += ["", f"Total run time: {total:.1f} s for {len(results)} chapter(s)."]
    return "\n".join(lines) + "\n"


def run(root=ROOT, chapters=None, out=None, stream=None):
    """Bench the chapters, write ``bench.md`` and ``bench.json`` to ``out``; returns the exit status."""
    root = Path(root)
    out = Path(out) if out is not None else root / "_build"
    paths = chapter_paths(root, chapters)
    if not paths:
        raise ValueError(f"no chapters in {root / 'solutions'}")
    results = []
    load_before = _load()
    for path in paths:
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        results.append(run_chapter(path))
    info = {**machine(), "load_before": load_before, "load_after": _load()}
    table = markdown_table(results, info)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.md").write_text(table, encoding="utf-8")
    (out / "bench.json").write_text(json.dumps({"machine": info, "slider_target_ms": SLIDER_TARGET_MS,
                                                "chapters": results}, indent=1) + "\n", encoding="utf-8")
    (stream or sys.stdout).write(table)
    print(f"wrote {out / 'bench.md'} and {out / 'bench.json'}", file=sys.stderr)
    return 1 if any(r["error"] for r in results) else 0
