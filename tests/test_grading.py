"""Grading with real nbgrader, as book/instructors.md describes it, one course per chapter.

For every chapter: ``nbgrader generate_assignment`` from solutions/, then ``nbgrader autograde`` on
- a lesson downloaded as from Colab, with the solutions' answers filled in: full marks;
- the blank lesson: zero on every autograded exercise;
and ``nbgrader generate_feedback``. For one chapter also the solution file itself as a submission
(full marks), a submission whose answer cell redefines the checkers to always pass (no points for the
wrong answer), and ``nbgrader validate`` on the solution, as an instructor runs it after editing. (The
filled lesson's full marks already show that every chapter's answers pass its hidden tests, so
validating every solution would only execute each chapter once more.)
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
BIN = Path(sys.executable).parent
EXTRA_CHECKS_CHAPTER = "04_clipping"


def nbgrader(course, *args):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("DEEPTRAIN_STATIC_WIDGETS", None)
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True,
                            text=True, timeout=1500)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{log[-4000:]}"
    return log


def make_course(tmp_path, path):
    course = tmp_path / "course"
    assignment = "ch" + path.name[:2]
    (course / "source" / assignment).mkdir(parents=True)
    shutil.copy(path, course / "source" / assignment / path.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'trainable-deep-nets'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.Execute.timeout = 600\n"
        "# feedback shows the student's notebook without the hidden tests\n"
        "from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor\n"
        "from nbgrader.preprocessors import ClearHiddenTests, GetGrades\n"
        "c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]\n")
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course, assignment


def submit(course, assignment, student, nb):
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    name = next((course / "source" / assignment).glob("*.ipynb")).name
    nbformat.write(nb, str(folder / name))


def filled_lesson(path):
    """The lesson with every answer filled in from the solution (code and written answers)."""
    solution = nbformat.read(str(path), as_version=4)
    lesson = nbformat.read(str(ROOT / "lessons" / path.name), as_version=4)
    for mine, theirs in zip(lesson.cells, solution.cells):
        if mine.metadata.get("nbgrader", {}).get("solution"):
            mine.source = theirs.source
    return lesson


def as_downloaded_from_colab(nb):
    """What File > Download .ipynb gives: Colab's metadata added, cell ids in metadata, outputs kept."""
    nb = json.loads(json.dumps(nb))
    nb["nbformat_minor"] = 0
    nb["metadata"]["colab"] = {"provenance": [], "toc_visible": True}
    nb["metadata"]["accelerator"] = "NONE"
    for index, cell in enumerate(nb["cells"]):
        cell.pop("id", None)
        cell["metadata"]["id"] = f"colab{index:04d}"
        if cell["cell_type"] == "code":
            cell["metadata"]["outputId"] = f"out{index:04d}"
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran in Colab\n"}]
            cell["execution_count"] = index
    return nbformat.from_dict(nb)


def scores(course, assignment, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        out = {}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                out[grade.name] = (grade.score, grade.max_score, grade.auto_score is not None)
        return out


def autograded(course, assignment, student):
    return {name: (score, top) for name, (score, top, auto) in scores(course, assignment, student).items()
            if name.endswith("_tests")}


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_nbgrader_round_trip(path, tmp_path):
    course, assignment = make_course(tmp_path, path)
    submit(course, assignment, "colab", as_downloaded_from_colab(filled_lesson(path)))
    submit(course, assignment, "blank", nbformat.read(str(ROOT / "lessons" / path.name), as_version=4))
    nbgrader(course, "autograde", assignment, "--create", "--force")
    full, blank = autograded(course, assignment, "colab"), autograded(course, assignment, "blank")
    assert full and set(full) == set(blank)
    print(f"{path.stem}: colab {sum(s for s, _ in full.values())}/{sum(t for _, t in full.values())}, "
          f"blank {sum(s for s, _ in blank.values())}")
    for name, (score, top) in full.items():
        assert score == top, f"{name}: a correct answer from Colab earns {score} of {top}"
    for name, (score, top) in blank.items():
        assert score == 0, f"{name}: a blank lesson earns {score} of {top}"
    written = {n: v for n, v in scores(course, assignment, "blank").items() if n.endswith("_answer")}
    assert all(not auto for _, _, auto in written.values()), "written answers are graded by hand"
    nbgrader(course, "generate_feedback", assignment, "--force")
    for student in ("colab", "blank"):
        page = next((course / "feedback" / student / assignment).glob("*.html")).read_text()
        assert not re.search(r"Exercise \d\d\.\d+: correct", page)
        assert "BEGIN HIDDEN TESTS" not in page and "_hidden_tests_" not in page, "feedback shows hidden tests"
    blank_page = next((course / "feedback" / "blank" / assignment).glob("*.html")).read_text()
    assert not re.search(r"Exercise \d\d\.\d+: passes the self-check", blank_page)


def cheating_lesson(path):
    """A filled lesson whose first code answer is wrong and redefines every checker to pass."""
    nb = filled_lesson(path)
    names = set(re.findall(r"^def (check_\w+)\(", "\n".join(c.source for c in nb.cells), re.M))
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    exercise = re.search(r"Exercise (\d\d\.\d+)", answer.source).group(1)
    body = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "return None", answer.source, flags=re.S)
    if body == answer.source:  # an answer not inside a function: make its value wrong
        body = answer.source + "\nNone"
    fakes = [f"def {name}(*args, **kwargs):\n    return None" for name in sorted(names)]
    fakes.append("def self_check(*args, **kwargs):\n    print('correct')\n    return True")
    answer.source = body + "\n\n\n" + "\n\n\n".join(fakes)
    return nb, exercise


def test_submissions_of_one_chapter_as_an_instructor_would_try_them(tmp_path):
    path = ROOT / "solutions" / f"{EXTRA_CHECKS_CHAPTER}.ipynb"
    course, assignment = make_course(tmp_path, path)
    submit(course, assignment, "solution", nbformat.read(str(path), as_version=4))
    cheat, exercise = cheating_lesson(path)
    submit(course, assignment, "cheat", cheat)
    nbgrader(course, "autograde", assignment, "--create", "--force")
    for name, (score, top) in autograded(course, assignment, "solution").items():
        assert score == top, f"{name}: the solution itself earns {score} of {top}"
    cheated = autograded(course, assignment, "cheat")
    key = f"ex{exercise.replace('.', '_')}_tests"
    assert cheated[key][0] == 0, f"redefining the checkers earned {cheated[key][0]} points for a wrong answer"
    log = nbgrader(course / "source" / assignment, "validate", path.name)
    assert "Success! Your notebook passes all the tests." in log, log[-3000:]
