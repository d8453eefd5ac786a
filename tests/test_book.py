"""The book as a whole: generated files current, lessons clean, chapters complete and wired into the site."""

import ast
import json
import re
import subprocess
import sys

import nbformat
import pytest
import yaml

from conftest import ROOT
from tools import sync

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
COLAB = "https://colab.research.google.com/github/" + REPO_URL.removeprefix("https://github.com/")


def ids(paths):
    return [p.stem for p in paths]


def test_there_are_chapters():
    assert SOLUTIONS, "solutions/ holds no chapter"


def test_generated_cells_and_lessons_are_current():
    stale = sync.stale_files(ROOT)
    assert stale == [], f"run `python -m tools sync`; out of date: {[str(p.relative_to(ROOT)) for p in stale]}"


@pytest.mark.parametrize("path", SOLUTIONS + sorted((ROOT / "lessons").glob("*.ipynb")), ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_without_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_lesson_exists_and_holds_no_answer(path):
    lesson = ROOT / "lessons" / path.name
    assert lesson.exists()
    text = lesson.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "Answer to Exercise"):
        assert marker not in text
    # no answer line of the solution survives in the lesson (lines that also occur outside the answers,
    # such as a common loop header, are not evidence of a leak)
    nb = nbformat.read(str(path), as_version=4)
    pattern = "|".join(re.escape(b) + r"\n.*?" + re.escape(e) for b, e in
                       ((sync.BEGIN_SOLUTION, sync.END_SOLUTION), (sync.BEGIN_HIDDEN, sync.END_HIDDEN)))
    answers, elsewhere = [], []
    for cell in nb.cells:
        answers += [m.group(0) for m in re.finditer(pattern, cell.source, re.S)]
        elsewhere.append(re.sub(pattern, "", cell.source, flags=re.S))
    public = "\n".join(elsewhere)
    for answer in answers:
        for line in answer.splitlines()[1:-1]:
            line = line.strip()
            if len(line) > 25 and line not in public:  # long enough to be specific to the answer
                assert line not in text, f"answer line leaked into the lesson: {line!r}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_chapter_anatomy(path):
    nb = nbformat.read(str(path), as_version=4)
    first = nb.cells[0].source
    number = path.name[:2]
    assert first.startswith(f"# {number}. "), "the first cell starts with '# NN. Title'"
    assert f"({COLAB}/blob/main/lessons/{path.name})" in first, "Colab badge for the lesson"
    assert f"({COLAB}/blob/main/solutions/{path.name})" in first, "Colab badge for the full chapter"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code"
                     and sync.GENERATED_TAG not in c.metadata.get("tags", []))
    for heading in ("## Summary", "## References"):
        assert heading in markdown
    assert "{bibliography}" in markdown and "{cite" in markdown
    assert "$$" in markdown, "a derivation in display math"
    assert "compare(" in code and "torch" in code, "validation against PyTorch"
    if re.search(r"def \w+_backward\(", code):
        assert "grad_check(" in code, "a backward pass is checked against finite differences"
    assert "slider_figure(" in code, "interactive exploration"
    exercises = set(re.findall(r"Exercise (\d\d\.\d+)", markdown))
    assert len(exercises) >= 4, f"at least four exercises, found {sorted(exercises)}"
    assert all(e.startswith(number) for e in exercises)
    solved = {cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells if "nbgrader" in cell.metadata}
    for exercise in exercises:
        tag = "ex" + exercise.replace(".", "_")
        assert {f"{tag}_solution", f"{tag}_answer"} & solved, f"Exercise {exercise} has no answer"
        if f"{tag}_solution" in solved:
            assert f"{tag}_tests" in solved, f"Exercise {exercise} has no hidden tests"
            assert re.search(rf'self_check\(\s*"{re.escape(exercise)}"', code), f"Exercise {exercise} has no self-check"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_sliders_only_through_the_shared_helper(path):
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and sync.GENERATED_TAG not in cell.metadata.get("tags", []):
            assert not re.search(r"\b(ipywidgets|interact|interactive)\b", cell.source), \
                "use slider_figure(...) so the slider also moves on the website"


def test_every_chapter_is_in_the_toc_and_the_chapter_map():
    toc = (ROOT / "_toc.yml").read_text()
    intro = (ROOT / "book/intro.md").read_text()
    for path in SOLUTIONS:
        assert f"file: solutions/{path.stem}\n" in toc
        row = next(line for line in intro.splitlines() if line.startswith(f"| [{path.name[:2]} "))
        assert f"(../solutions/{path.name})" in row and row.rstrip().endswith("| available |")
    rows = [line for line in intro.splitlines() if re.match(r"\| \[?\d\d ", line)]
    assert len(rows) == 12, "the chapter map lists all twelve planned chapters"
    written = {p.name[:2] for p in SOLUTIONS}
    for row in rows:
        number = re.match(r"\| \[?(\d\d)", row).group(1)
        assert row.rstrip().endswith("| available |" if number in written else "| coming |")


def test_every_citation_is_in_the_bibliography():
    bib = (ROOT / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, re.M))
    for path in SOLUTIONS:
        text = path.read_text()
        for group in re.findall(r"\{cite[a-z:]*\}`([^`]+)`", text):
            for key in group.split(","):
                assert key.strip() in keys, f"{path.name} cites {key.strip()!r}, missing from references.bib"


def test_requirements_keep_colab_compatible_pins():
    text = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupyter-book>=1\.0\.4,<2$", text, re.M)
    assert not re.search(r"ipywidgets\s*>=\s*8", text), "Colab ships ipywidgets 7.7"
    torch_line = re.search(r"^torch(.*)$", text, re.M).group(1)
    assert "<=2.13.0" in torch_line or "==2.13.0" in torch_line, "2.13.0 is the newest torch the book is tested with"


def test_ci_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci/run").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    build = next(b.strip() for b in blocks if "jupyter-book build" in b)
    tests = next(b.strip() for b in blocks if "pytest" in b)
    assert tests in ci and build in ci
    assert "-W -n --keep-going" in build


SAFE_COLORMAPS = {"viridis", "cividis", "magma", "inferno", "plasma", "Greys", "gray", "binary",
                  "RdBu", "RdBu_r", "PuOr", "PuOr_r", "BrBG", "BrBG_r"}
NEUTRAL_COLORS = {"black", "k", "white", "w", "gray", "grey", "0.3", "0.5", "0.7", "none"}


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_figures_use_colour_blind_safe_colours(path):
    nb = nbformat.read(str(path), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code"
                     and sync.GENERATED_TAG not in c.metadata.get("tags", []))
    for cmap in re.findall(r"cmap\s*=\s*[\"']([\w]+)[\"']", code):
        assert cmap in SAFE_COLORMAPS, f"colormap {cmap!r} is not colour-blind safe; use one of {sorted(SAFE_COLORMAPS)}"
    for color in re.findall(r"\b(?:color|c|colors|facecolor|edgecolor)\s*=\s*[\"']([^\"']+)[\"']", code):
        assert color in NEUTRAL_COLORS or re.fullmatch(r"0?\.\d+", color), f"colour {color!r} written by hand; use BOOK_COLORS (Okabe-Ito)"
    assert "use_book_style()" in code


# ---------------------------------------------------------------- lessons: faithful, gradable, clean in Colab

MYST_ONLY = re.compile(r"\{cite[a-z:]*\}`|^:{3,}|^```\{|:filter:|\{(eq|numref|ref|doc|term)\}`", re.M)


def words(text):
    """The words of a text, without MyST markup: what a reader reads."""
    text = re.sub(r"\{cite[a-z:]*\}`[^`]*`", " ", text)
    text = re.sub(r"^(:{3,}|```)\{?[a-z]*\}?.*$|^:class:.*$|^:filter:.*$", " ", text, flags=re.M)
    return re.findall(r"[A-Za-z0-9]+", text)


def is_subsequence(needle, haystack):
    it = iter(haystack)
    return all(any(word == other for other in it) for word in needle)


def lines_outside_regions(source):
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() in (sync.BEGIN_SOLUTION, sync.BEGIN_HIDDEN):
            inside = True
        elif line.strip() in (sync.END_SOLUTION, sync.END_HIDDEN):
            inside = False
        elif not inside:
            out.append(line)
    return out


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_lesson_keeps_every_word_outside_the_answers(path):
    """Paragraph by paragraph: a lesson holds its solution's text, in order, answers excepted."""
    solution = nbformat.read(str(path), as_version=4)
    lesson = nbformat.read(str(ROOT / "lessons" / path.name), as_version=4)
    assert len(lesson.cells) == len(solution.cells)
    for index, (theirs, mine) in enumerate(zip(solution.cells, lesson.cells)):
        assert mine.cell_type == theirs.cell_type and mine.get("id") == theirs.get("id")
        if theirs.cell_type == "markdown":
            parts = sync._split_written_answers(path, index, theirs.source)
            if any(kind == "answer" for kind, _ in parts):
                assert mine.source.startswith("**Your answer to Exercise"), f"cell {index}"
            text = "\n\n".join(part for kind, part in parts if kind == "text")
            for paragraph in re.split(r"\n\s*\n", text):
                if "{bibliography}" in paragraph:
                    continue
                assert is_subsequence(words(paragraph), words(mine.source)), \
                    f"cell {index}: the lesson lost words of: {paragraph[:200]!r}"
        else:
            kept = lines_outside_regions(theirs.source)
            assert is_subsequence(kept, mine.source.splitlines()), f"cell {index}: code outside the answers changed"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_lesson_is_a_valid_nbgrader_release_that_colab_renders(path):
    lesson = nbformat.read(str(ROOT / "lessons" / path.name), as_version=4)
    nbformat.validate(lesson)
    chapter = path.name[:2]
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in lesson.cells if "nbgrader" in c.metadata]
    assert len(grade_ids) == len(set(grade_ids)), "grade ids are unique"
    for index, cell in enumerate(lesson.cells):
        for exercise in sync.EXERCISE_RE.findall(cell.source):
            assert exercise.startswith(chapter + "."), f"cell {index} names Exercise {exercise}"
        grader = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            ast.parse("\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in cell.source.splitlines()))
            if grader.get("grade"):
                assert grader["locked"] and grader["points"] > 0 and "BEGIN HIDDEN" not in cell.source
            if grader.get("solution"):
                assert "NotImplementedError(\"Exercise" in cell.source and not grader["locked"]
        else:
            assert not MYST_ONLY.search(cell.source), f"cell {index} shows raw MyST in Colab: {cell.source[:200]!r}"
        tags = cell.metadata.get("tags", [])
        if sync.GENERATED_TAG in tags or sync.CHECKS_TAG in tags:
            assert re.match(r"#[ ]?@title ", cell.source), "Colab collapses a form cell under its title"
            assert cell.metadata["cellView"] == "form" and cell.metadata["jupyter"]["source_hidden"] is True
            assert grader["locked"] and cell.metadata["editable"] is False
    references = next(c.source for c in lesson.cells if "## References" in c.source).split("## References")[1]
    listed = re.findall(r"^- .+\(\d{4}\)", references, re.M)
    cited = set(re.findall(r"\{cite[a-z:]*\}`([^`]+)`", path.read_text()))
    assert len(listed) == len({k.strip() for group in cited for k in group.split(",")}), \
        "the lesson's References list every cited work"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_generated_cell_runs_on_its_own(path, tmp_path):
    nb = nbformat.read(str(path), as_version=4)
    generated = [c for c in nb.cells if sync.is_generated(c)]
    assert len(generated) == 1
    script = tmp_path / "generated.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + generated[0].source)
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_bibliography_entries_are_linked_and_unique():
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "references.bib")).entries
    titles = {}
    for key, entry in entries.items():
        fields = entry.fields
        assert fields.get("doi") or fields.get("url"), f"{key} has neither a DOI nor a URL"
        title = re.sub(r"[^a-z0-9]", "", fields.get("title", "").lower())
        assert title not in titles, f"{key} and {titles[title]} are the same work"
        titles[title] = key


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_prose_reads_in_steps_and_cites_its_sources(path):
    nb = nbformat.read(str(path), as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert len(cell.source) <= 4500, f"cell {index}: {len(cell.source)} characters; split the derivation"
            assert not re.search(r"\bseed notes?\b|\bthe seeds\b|\bthe notes\b", cell.source, re.I), \
                f"cell {index} names the book's source notes; say 'a popular explanation' and cite"
            # author-year style: "Santurkar et al. {cite}`k`" renders as "Santurkar et al. (Santurkar et al., 2018)"
            named = re.search(r"\b[A-Z][A-Za-z-]+ (?:et al\.|and [A-Z][A-Za-z-]+)\s+\{cite(?::p)?\}`", cell.source)
            assert not named, f"cell {index}: {named.group(0)!r} names the authors twice; write {{cite:t}}`key`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_no_cell_ends_in_a_checks_return_value(path):
    """compare() and grad_check() return a number: as a cell's last line it shows a stray Out[] line."""
    nb = nbformat.read(str(path), as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or sync.is_generated(cell):
            continue
        body = ast.parse(cell.source).body
        last = body[-1] if body else None
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            func = last.value.func
            name = getattr(func, "id", getattr(func, "attr", None))
            assert name not in {"compare", "grad_check", "rel_error"} or cell.source.rstrip().endswith(";"), \
                f"cell {index} ends with {name}(...), whose value would print as Out[]: assign it or end with ';'"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_code_fits_the_page(path):
    """The website wraps longer lines mid-line; ruff keeps code at 88, strings and docstrings are ours."""
    nb = nbformat.read(str(path), as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or sync.is_generated(cell) or sync.BEGIN_HIDDEN in cell.source:
            continue
        for line in cell.source.splitlines():
            assert len(line) <= 100, f"cell {index}: a line of {len(line)} characters: {line[:60]!r}..."
