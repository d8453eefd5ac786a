"""Every chapter executed as its users meet it, each alone in an empty folder (as in Colab), live sliders.

- A student who works in order: the lesson, where each exercise's stub is run and self-checked first
  ("not attempted yet"), then replaced by the solution's answer and self-checked again ("passes"),
  and each hidden-test cell by the solution's hidden tests. The code executed is then exactly the
  solution's, so this is also the standalone run of the full chapter.
- A student who presses "Run all" on a blank lesson: it stops only at exercise stubs, each with the
  stub's one-line message naming the exercise.

Run times are printed, never asserted: ``python -m tools bench`` reports them.
"""

import re
import shutil

import nbformat
import pytest

from conftest import ROOT
from notebook_runner import STATIC_WIDGETS_ENV, Kernel, cell_errors, execute, live_env, text_outputs
from tools import sync

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
STUB_ERROR = re.compile(r"^Exercise (\d\d\.\d+): not implemented yet$")


def grader(cell):
    return cell.metadata.get("nbgrader", {})


def exercise_of(cell):
    found = sync.EXERCISE_RE.findall(cell.source)
    return found[0] if found else None


def self_check_exercise(cell):
    match = re.search(r'\bself_check\(\s*"(\d\d\.\d+)"', cell.source)
    return match.group(1) if match and "strict=True" not in cell.source else None


def test_the_kernel_environment_is_live():
    assert STATIC_WIDGETS_ENV not in live_env(), "the static-slider switch leaked into the test kernels"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_student_who_works_in_order(path, tmp_path):
    solution = nbformat.read(str(path), as_version=4)
    lesson = nbformat.read(str(ROOT / "lessons" / path.name), as_version=4)
    assert len(lesson.cells) == len(solution.cells)
    work = tmp_path / path.name
    shutil.copy(ROOT / "lessons" / path.name, work)
    executed_sources, reports = [], {}
    pending = None  # (exercise, index, answer cell): a stub the student is about to fill in
    with Kernel(lesson, tmp_path) as kernel:
        for index, (mine, theirs) in enumerate(zip(lesson.cells, solution.cells)):
            if mine.cell_type != "code":
                continue
            exercise = self_check_exercise(mine)
            if pending and sync.CHECKS_TAG not in mine.metadata.get("tags", []):
                pending_exercise, answer_index, answer = pending
                if exercise == pending_exercise:  # the student runs the self-check before answering
                    early = text_outputs(kernel.run(mine, index))
                    assert f"Exercise {exercise}: not attempted yet" in early, \
                        f"the self-check of the blank Exercise {exercise} says: {early[-300:]}"
                done = kernel.run(answer, answer_index)
                assert cell_errors(done) == [], f"cell {answer_index}: the answer fails: {cell_errors(done)}"
                pending = None
            if grader(mine).get("solution"):
                stub = kernel.run(mine, index)
                assert cell_errors(stub) == [], f"cell {index}: the stub itself fails: {cell_errors(stub)}"
                pending = (exercise_of(mine), index, theirs)
                executed_sources.append(theirs.source)
                continue
            cell = kernel.run(theirs, index)
            executed_sources.append(theirs.source)
            errors = cell_errors(cell)
            assert errors == [], f"cell {index} fails: {errors}\n{theirs.source[:300]}"
            output = text_outputs(cell)
            assert "FAIL" not in output, f"cell {index}: {output[-500:]}"
            if exercise is not None:
                reports[exercise] = output
        assert pending is None, f"Exercise {pending[0]} is the last cell: nothing checks it"
    solution_code = [c.source for c in solution.cells if c.cell_type == "code"]
    assert executed_sources == solution_code, "the lesson's cells are not the solution's cells"
    for exercise, output in reports.items():
        assert f"Exercise {exercise}: passes the self-check." in output, \
            f"the self-check of Exercise {exercise} does not pass on the answer: {output[-400:]}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name], "the chapter wrote files next to itself"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_blank_lesson_stops_only_at_exercise_stubs(path, tmp_path):
    shutil.copy(ROOT / "lessons" / path.name, tmp_path / path.name)
    nb, seconds = execute(tmp_path / path.name, tmp_path)
    print(f"{path.name}: blank lesson ran in {seconds:.1f} s")
    chapter = path.name[:2]
    stubs = [i for i, c in enumerate(nb.cells) if grader(c).get("solution") and c.cell_type == "code"]
    assert stubs, "the lesson has no code exercise"
    for index, cell in enumerate(nb.cells):
        for ename, evalue in cell_errors(cell):
            match = STUB_ERROR.match(evalue)
            assert ename == "NotImplementedError" and match, \
                f"cell {index} stops with {ename}: {evalue!r}, not at an exercise stub"
            assert match.group(1).startswith(chapter + "."), f"cell {index} names another chapter's exercise"
            assert index > stubs[0], f"cell {index} stops before the first exercise"
        exercise = self_check_exercise(cell) if cell.cell_type == "code" else None
        if exercise is not None:
            output = text_outputs(cell)
            assert re.search(rf"Exercise {re.escape(exercise)}: (not attempted yet|waiting for Exercise)", output), \
                f"the self-check of Exercise {exercise} does not say the stub is unanswered: {output[-300:]}"
    for index, cell in enumerate(nb.cells):
        if grader(cell).get("grade") and cell.cell_type == "code":
            assert "BEGIN HIDDEN TESTS" not in cell.source and cell_errors(cell) == []
