"""book/instructors.md agrees with the notebooks and with the grading test.

- its points tables give, for every exercise, the points of its hidden tests (``exNN_M_tests``) and of
  its written answer (``exNN_M_answer``) exactly as the nbgrader metadata of solutions/*.ipynb has them,
  with the right chapter totals, and a kind consistent with the exercise's heading;
- its time estimates add up from the kinds of the exercises;
- its nbgrader commands and nbgrader_config.py are the ones tests/test_grading.py runs and writes;
- every written answer has a collapsed rubric whose criteria add up to the answer's points.
"""

import ast
import json
import re
from collections import Counter

import pytest
from conftest import ROOT

PAGE = ROOT / "book" / "instructors.md"
GRADING_TEST = ROOT / "tests" / "test_grading.py"
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

KINDS = ("implement", "derive", "predict", "explain")
MINUTES = {"implement": (30, 45), "derive": (30, 30), "predict": (15, 15), "explain": (15, 15)}
NUMBER = r"(\d+(?:\.\d+)?)"
CHAPTER_HEADING = re.compile(r"^### (\d\d)\. ")
POINTS_ROW = re.compile(rf"^\| (\d\d\.\d+) [^|]*\| (\w+) \| {NUMBER} \| {NUMBER} \| {NUMBER} \|$")
BOLD = rf"\*\*{NUMBER}\*\*"
TOTAL_ROW = re.compile(rf"^\| \*\*Chapter (\d\d) total\*\* \| \| {BOLD} \| {BOLD} \| {BOLD} \|$")
TIME_ROW = re.compile(r"^\| (\d\d) \| ([^|]+) \| (\d+)–(\d+) min \| (\d+) min \| (\d+)–(\d+) min \|$")
GRADE_ID = re.compile(r"^ex(\d\d)_(\d+)_(tests|answer)$")
HEADING_KIND = re.compile(r"^#{2,4} Exercise (\d\d\.\d+)\b[^\n]*?\((implement|derive|predict|explain)\b", re.MULTILINE)
RUBRIC = re.compile(r"^:::\{admonition\} Rubric for Exercise (\d\d\.\d+) \(" + NUMBER + r" points?\)\n(.*?)^:::$",
                    re.MULTILINE | re.DOTALL)
CRITERION = re.compile(r"^- \*\*" + NUMBER + r" points?\*\*:", re.MULTILINE)


def page():
    return PAGE.read_text()


def number(text):
    value = float(text)
    return int(value) if value == int(value) else value


def metadata_points():
    """{exercise: {"tests": points, "answer": points}} from the nbgrader metadata of every solution."""
    points = {}
    for path in SOLUTIONS:
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            match = GRADE_ID.match(meta.get("grade_id", ""))
            if match and meta.get("grade"):
                exercise = f"{match.group(1)}.{match.group(2)}"
                points.setdefault(exercise, {"tests": 0, "answer": 0})[match.group(3)] = number(meta["points"])
    return points


def heading_kinds():
    """{exercise: kind} for the exercises whose heading states its kind first, e.g. "(derive; 4 points)"."""
    kinds = {}
    for path in SOLUTIONS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                kinds.update(dict(HEADING_KIND.findall("".join(cell["source"]))))
    return kinds


def page_table():
    """({exercise: (kind, auto, manual)}, {chapter: (auto, manual, total)}) from the page's points tables."""
    rows, totals, chapter = {}, {}, None
    for line in page().splitlines():
        if heading := CHAPTER_HEADING.match(line):
            chapter = heading.group(1)
        elif row := POINTS_ROW.match(line):
            exercise, kind, auto, manual, total = row.groups()
            assert exercise[:2] == chapter, f"Exercise {exercise} is listed under chapter {chapter}"
            assert exercise not in rows, f"Exercise {exercise} is listed twice"
            assert number(total) == number(auto) + number(manual), f"Exercise {exercise}: total is not the sum"
            rows[exercise] = (kind, number(auto), number(manual))
        elif total_row := TOTAL_ROW.match(line):
            totals[total_row.group(1)] = tuple(number(v) for v in total_row.groups()[1:])
    return rows, totals


def named_block(name):
    blocks = re.findall(r"^```\{code-block\} \w+\n:name: ([\w-]+)\n\n(.*?)^```$", page(), re.MULTILINE | re.DOTALL)
    found = [body for block_name, body in blocks if block_name == name]
    assert len(found) == 1, f"the page needs exactly one code block named {name}"
    return [line for line in found[0].splitlines() if line.strip()]


def grading_tree():
    return ast.parse(GRADING_TEST.read_text())


def token(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id == "assignment":
        return "<assignment>"
    if isinstance(node, ast.Starred) or (isinstance(node, ast.Attribute) and node.attr == "name"):
        return "<notebook>"  # a notebook's file name, or several
    raise AssertionError(f"tests/test_grading.py: cannot read the nbgrader argument {ast.unparse(node)}")


def grading_commands():
    """The nbgrader command lines tests/test_grading.py runs, as tuples of normalized arguments."""
    commands = set()
    for node in ast.walk(grading_tree()):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "nbgrader":
            commands.add(tuple(token(arg) for arg in node.args[1:]))
        elif isinstance(node, ast.List) and node.elts and '"nbgrader"' in ast.unparse(node.elts[0]):
            commands.add(tuple(token(arg) for arg in node.elts[1:]))
    return commands


def page_command(line):
    words = line.split()
    assert words[0] == "nbgrader", f"not an nbgrader command: {line!r}"
    return tuple("<assignment>" if re.fullmatch(r"ch\d\d", w) else "<notebook>" if w.endswith(".ipynb") else w
                 for w in words[1:])


def config_template():
    """Regular expressions, one per line, for the nbgrader_config.py that tests/test_grading.py writes."""
    for node in ast.walk(grading_tree()):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "write_text":
            arg = node.args[0]
            if isinstance(arg, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else "\0" for v in arg.values)
            elif isinstance(arg, ast.Constant):
                text = arg.value
            else:
                continue
            if "get_config()" in text:
                return [re.escape(line).replace("\0", ".+") for line in text.splitlines() if line.strip()]
    raise AssertionError("tests/test_grading.py writes no nbgrader_config.py")


def test_points_tables_equal_the_nbgrader_metadata():
    expected = metadata_points()
    rows, totals = page_table()
    assert expected, "no graded cells found in solutions/"
    assert set(rows) == set(expected), (
        f"exercises missing from the page: {sorted(set(expected) - set(rows))}; "
        f"on the page but not in the notebooks: {sorted(set(rows) - set(expected))}")
    for exercise, (kind, auto, manual) in sorted(rows.items()):
        want = expected[exercise]
        assert (auto, manual) == (want["tests"], want["answer"]), (
            f"Exercise {exercise}: the page says {auto} autograded + {manual} written points, the notebook "
            f"{want['tests']} + {want['answer']}; update book/instructors.md")
    chapters = {exercise[:2] for exercise in expected}
    assert set(totals) == chapters, f"chapter totals on the page: {sorted(totals)}, chapters: {sorted(chapters)}"
    for chapter in chapters:
        auto = sum(expected[e]["tests"] for e in expected if e.startswith(chapter + "."))
        manual = sum(expected[e]["answer"] for e in expected if e.startswith(chapter + "."))
        assert totals[chapter] == (auto, manual, auto + manual), f"chapter {chapter}: wrong totals"


def test_every_exercise_has_one_of_the_four_kinds():
    rows, _ = page_table()
    stated = heading_kinds()
    for exercise, (kind, _, _) in rows.items():
        assert kind in KINDS, f"Exercise {exercise}: unknown kind {kind!r}"
        if exercise in stated:
            assert kind == stated[exercise], (
                f"Exercise {exercise}: its heading says {stated[exercise]}, the page {kind}")


def test_time_estimates_add_up_from_the_kinds_of_exercises():
    text = page()
    assert "## Estimated student time" in text and "estimates, not measurements" in text
    assert ("about 30–45 minutes for an implementation, 30 for a derivation, 15 for a\nprediction and 15 for "
            "an explanation") in text, "the per-kind minutes in the prose changed: update MINUTES here"
    rows, _ = page_table()
    times = {}
    for line in text.splitlines():
        if row := TIME_ROW.match(line):
            times[row.group(1)] = row.groups()[1:]
    assert set(times) == {exercise[:2] for exercise in rows}, "one time estimate per chapter"
    for chapter, (kinds_text, low, high, reading, total_low, total_high) in times.items():
        kinds = Counter(kind for e, (kind, _, _) in rows.items() if e.startswith(chapter + "."))
        listed = Counter({kind: int(count) for count, kind in re.findall(r"(\d+) (\w+)", kinds_text)})
        assert listed == kinds, (
            f"chapter {chapter}: the time table lists {dict(listed)}, the points table {dict(kinds)}")
        want = (sum(MINUTES[k][0] * n for k, n in kinds.items()), sum(MINUTES[k][1] * n for k, n in kinds.items()))
        assert (int(low), int(high)) == want, f"chapter {chapter}: exercises take {want[0]}–{want[1]} min by kind"
        assert (int(total_low), int(total_high)) == (want[0] + int(reading), want[1] + int(reading)), (
            f"chapter {chapter}: the total is not exercises plus reading")


def test_nbgrader_commands_are_the_ones_the_grading_test_runs():
    on_page = [page_command(line) for line in named_block("nbgrader-commands") if not line.startswith("#")]
    run = grading_commands()
    assert run, "found no nbgrader command in tests/test_grading.py"
    for command in on_page:
        assert command in run, f"the page runs nbgrader {' '.join(command)}, tests/test_grading.py does not"
    assert set(on_page) == run, f"tests/test_grading.py also runs {sorted(run - set(on_page))}"
    text = page()
    assert "alembic" in text and "PATH" in text
    assert 'PATH=f"{BIN}' in GRADING_TEST.read_text(), "the grading test no longer puts the venv's bin on PATH"


def test_nbgrader_config_is_the_one_the_grading_test_writes():
    template = config_template()
    lines = named_block("nbgrader-config")
    for line in lines:
        assert any(re.fullmatch(pattern, line) for pattern in template), (
            f"nbgrader_config.py on the page has {line!r}, which tests/test_grading.py does not write")
    for pattern in template:
        assert any(re.fullmatch(pattern, line) for line in lines), f"the page's config lacks a line like {pattern!r}"
    assert any("GenerateFeedback.preprocessors" in line and "ClearHiddenTests" in line for line in lines)


def test_every_written_answer_has_a_rubric_that_adds_up():
    text = page()
    assert not re.search(r"answer to exercise", text, re.IGNORECASE), (
        "the page must not look like a notebook's answer cell")
    written = {e: p["answer"] for e, p in metadata_points().items() if p["answer"]}
    rubrics = {}
    for exercise, points, body in RUBRIC.findall(text):
        assert exercise not in rubrics, f"two rubrics for Exercise {exercise}"
        assert body.startswith(":class: dropdown\n"), f"the rubric for Exercise {exercise} is not collapsed"
        criteria = sum(number(p) for p in CRITERION.findall(body))
        assert criteria == number(points), f"Exercise {exercise}: criteria worth {criteria}, rubric title {points}"
        rubrics[exercise] = number(points)
    assert set(rubrics) == set(written), (
        f"written answers without a rubric: {sorted(set(written) - set(rubrics))}; "
        f"rubrics without a written answer: {sorted(set(rubrics) - set(written))}")
    for exercise, points in rubrics.items():
        assert points == written[exercise], (
            f"Exercise {exercise}: rubric for {points} points, answer worth {written[exercise]}")
    assert text.count(":::{admonition}") == len(rubrics), "an admonition that is not a well-formed rubric"


@pytest.mark.parametrize("prefix", ["solutions/", "lessons/", "tests/", "tools/"])
def test_paths_the_page_names_exist(prefix):
    for name in re.findall(r"`([^`\s]+)`", page()):
        if name.startswith(prefix) and "NN" not in name:
            assert (ROOT / name.rstrip("/")).exists(), f"book/instructors.md names {name}, which does not exist"
    assert "book/instructors" in (ROOT / "_toc.yml").read_text()
