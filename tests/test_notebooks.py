"""Standalone runs: each solution alone in an empty folder (as in Colab), and each lesson as a student gets it.

The solutions are also executed in place by nbval (pytest collects solutions/*.ipynb).
"""

import re
import shutil

import nbformat
import pytest

from conftest import ROOT
from notebook_runner import errors, execute, text_outputs
from tools import sync

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
BUDGET_SECONDS = 60  # per chapter, on the 2-core CI machine (see the design guide's budgets)
TIMINGS = {}


def code_exercises(path):
    nb = nbformat.read(str(path), as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and sync.BEGIN_SOLUTION in cell.source:
            found |= set(sync.EXERCISE_RE.findall(cell.source))
    return sorted(found)


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_runs_alone_in_an_empty_folder(path, tmp_path):
    shutil.copy(path, tmp_path / path.name)
    nb, seconds = execute(tmp_path / path.name, tmp_path)
    TIMINGS[path.stem] = seconds
    print(f"{path.name}: {seconds:.1f} s")
    assert errors(nb) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name], "the chapter wrote files next to itself"
    output = "\n".join(text_outputs(c) for c in nb.cells)
    for exercise in code_exercises(path):
        assert f"Exercise {exercise}: correct." in output, f"the self-check of Exercise {exercise} fails on its answer"
    assert "FAIL" not in output
    assert seconds < BUDGET_SECONDS, f"{path.name} took {seconds:.1f} s; the budget is {BUDGET_SECONDS} s"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_lesson_runs_and_every_stub_says_not_implemented(path, tmp_path):
    lesson = ROOT / "lessons" / path.name
    shutil.copy(lesson, tmp_path / path.name)
    nb, _ = execute(tmp_path / path.name, tmp_path, allow_errors=True)
    exercise_cells = [i for i, c in enumerate(nb.cells) if "NotImplementedError(\"Exercise" in c.source]
    assert exercise_cells, "the lesson has no exercise stubs"
    found = errors(nb)
    assert not [e for e in found if e[0] < exercise_cells[0]], f"the lesson fails before its first exercise: {found}"
    assert found == [], f"the lesson should run to its end with every exercise left undone: {found}"
    output = "\n".join(text_outputs(c) for c in nb.cells)
    for exercise in code_exercises(path):
        assert re.search(rf"Exercise {re.escape(exercise)}: not attempted yet", output), \
            f"Exercise {exercise}'s stub did not raise NotImplementedError through its self-check"


def test_whole_book_within_budget():
    if len(TIMINGS) < len(SOLUTIONS):
        pytest.fail("run together with test_solution_runs_alone_in_an_empty_folder, which measures the chapters")
    total = sum(TIMINGS.values())
    print("chapter run times: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()) + f"; total {total:.1f} s")
    assert total < 600
