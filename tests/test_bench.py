"""``python -m tools bench`` on a tiny fixture chapter: what the table and the JSON say, never how fast."""

import json
import os
import shutil

import nbformat
import pytest
from conftest import ROOT

from tools import bench
from tools.__main__ import main
from tools.nbhelpers import BENCH_ENV, STATIC_WIDGETS_ENV

FIXTURE_BOOK = ROOT / "tests" / "fixtures" / "bench_book"


@pytest.fixture
def kernel_can_import_tools(monkeypatch):
    """The fixture chapter imports tools.nbhelpers; the kernel inherits this process's environment."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv(BENCH_ENV, raising=False)


def test_bench_runs_a_chapter_and_writes_the_table(tmp_path, monkeypatch, capsys, kernel_can_import_tools):
    monkeypatch.setenv(STATIC_WIDGETS_ENV, "1")  # the bench must still run the live widgets
    before = sorted(p.name for p in (FIXTURE_BOOK / "solutions").iterdir())
    assert main(["bench", "--root", str(FIXTURE_BOOK), "--out", str(tmp_path), "--chapters", "01"]) == 0
    assert sorted(p.name for p in (FIXTURE_BOOK / "solutions").iterdir()) == before, "ran in a copy"

    table = (tmp_path / "bench.md").read_text()
    assert capsys.readouterr().out == table
    assert "| chapter | item | n | median | p95 | NumPy / torch | note |" in table
    assert "| 01 | run time | 1 |" in table
    assert "| 01 | slider `draw_line` (slope, offset) | 6 frames |" in table
    assert "| 01 | layer relu 256 | 3 runs | NumPy " in table
    assert "FAILED" not in table
    assert f"{os.cpu_count()} CPUs" in table

    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["machine"]["cpus"] and report["slider_target_ms"] == {"median": 100.0, "p95": 200.0}
    [chapter] = report["chapters"]
    assert chapter["chapter"] == "01" and chapter["notebook"] == "01_tiny.ipynb" and chapter["error"] is None
    assert chapter["total_seconds"] >= chapter["run_seconds"] > 0 and chapter["bench_seconds"] > 0
    [slider] = chapter["sliders"]
    assert slider["figure"] == "draw_line" and slider["sliders"] == ["slope", "offset"]
    assert slider["frames"] == len(slider["ms"]) == 6 and slider["median_cpu_ms"] >= 0
    assert min(slider["ms"]) <= slider["median_ms"] <= slider["p95_ms"] <= slider["max_ms"] == max(slider["ms"])
    [layer] = chapter["layers"]
    assert layer["name"] == "relu 256" and layer["repeat"] == 3 and layer["threads"] == 1
    assert len(layer["numpy_runs_ms"]) == len(layer["torch_runs_ms"]) == 3
    assert layer["ratio"] == pytest.approx(layer["numpy_ms"] / layer["torch_ms"])


def test_a_failing_chapter_is_reported_and_the_others_still_run(tmp_path, capsys, kernel_can_import_tools):
    book = tmp_path / "book"
    (book / "solutions").mkdir(parents=True)
    shutil.copy(FIXTURE_BOOK / "solutions" / "01_tiny.ipynb", book / "solutions")
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1\nassert x == 2, 'x is not 2'\nx = 3")])
    nbformat.write(broken, book / "solutions" / "02_broken.ipynb")
    assert bench.run(book, out=tmp_path / "out") == 1
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert [c["chapter"] for c in report["chapters"]] == ["01", "02"]
    assert report["chapters"][0]["error"] is None and report["chapters"][0]["sliders"]
    assert report["chapters"][1]["error"] == "cell 0 (`assert x == 2, 'x is not 2'`): AssertionError: x is not 2"
    assert "| 02 | run time | 1 |" in capsys.readouterr().out


def test_unknown_chapter_is_a_one_line_error(tmp_path, capsys):
    assert main(["bench", "--root", str(FIXTURE_BOOK), "--out", str(tmp_path), "--chapters", "07"]) == 2
    assert capsys.readouterr().err.strip() == (f"error: no chapter 07 in {FIXTURE_BOOK / 'solutions'}; there are 01")
    assert not (tmp_path / "bench.md").exists()


def test_chapter_selection(tmp_path):
    for name in ("01_a.ipynb", "02_b.ipynb", "06_c.ipynb", "notes.ipynb"):
        (tmp_path / "solutions").mkdir(exist_ok=True)
        (tmp_path / "solutions" / name).write_text("{}")
    assert [p.name for p in bench.chapter_paths(tmp_path)] == ["01_a.ipynb", "02_b.ipynb", "06_c.ipynb"]
    assert [p.name for p in bench.chapter_paths(tmp_path, ["06", "1"])] == ["06_c.ipynb", "01_a.ipynb"]


def test_kernel_env_is_live_and_leaves_this_process_alone(monkeypatch, tmp_path):
    monkeypatch.setenv(STATIC_WIDGETS_ENV, "1")
    env = bench.kernel_env(tmp_path / "r.jsonl")
    assert STATIC_WIDGETS_ENV not in env and env[BENCH_ENV] == str(tmp_path / "r.jsonl")
    assert os.environ[STATIC_WIDGETS_ENV] == "1" and BENCH_ENV not in os.environ


def test_summary_and_table_from_records():
    records = [
        {"kind": "slider", "figure": "draw_x", "sliders": ["a"], "frames": 4, "ms": [50.0, 120.0, 90.0, 400.0],
         "cpu_ms": [40.0, 50.0, 60.0, 70.0], "png_bytes": [2048, 2048, 4096, 4096], "bench_seconds": 1.0},
        {"kind": "slider", "figure": "draw_y", "sliders": ["b", "c"], "frames": 2, "ms": [20.0, 30.0],
         "cpu_ms": [20.0, 29.0], "png_bytes": [1024, 1024], "bench_seconds": 0.1},
        {"kind": "layer", "name": "relu", "repeat": 2, "threads": 1, "numpy_ms": 3.0, "torch_ms": 1.5, "ratio": 2.0,
         "numpy_runs_ms": [3.0, 3.0], "torch_runs_ms": [1.5, 1.5], "bench_seconds": 0.5},
    ]
    result = bench.summarize("04_x.ipynb", 10.0, records)
    assert result["run_seconds"] == pytest.approx(8.4) and result["bench_seconds"] == pytest.approx(1.6)
    slider = result["sliders"][0]
    assert slider["median_ms"] == 105.0 and slider["max_ms"] == 400.0 and slider["median_png_kib"] == 3.0
    assert slider["median_cpu_ms"] == 55.0
    info = {"date": "today", "cpus": 2, "cpu": "some CPU", "platform": "Linux", "python": "3.11",
            "versions": {"numpy": "2.0", "torch": None}, "load_before": 0.5, "load_after": 1.25}
    table = bench.markdown_table([result], info)
    assert "today; 2 CPUs (some CPU); Linux; Python 3.11; numpy 2.0. Load average (1 min) 0.50 before, 1.25 after." in table
    assert "| 04 | run time | 1 | 8.4 s |" in table
    assert ("| 04 | slider `draw_x` (a) | 4 frames | 105 ms | 358 ms |  | median > 100 ms; p95 > 200 ms; "
            "busy machine: CPU time median 55 ms |") in table
    assert "| 04 | slider `draw_y` (b, c) | 2 frames | 25 ms | 30 ms |  |  |" in table
    assert "| 04 | layer relu | 2 runs | NumPy 3 ms, torch 1.5 ms |  | 2.00 |  |" in table
    assert table.endswith("Total run time: 8.4 s for 1 chapter(s).\n")
