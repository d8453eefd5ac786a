"""Unit tests of tools/sync.py on small fixture books built in a temporary folder."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT
from tools import sync

HELPERS = '''"""Fixture helper module."""
import math

import numpy as np

SCALE = 3


def scaled(x):
    return SCALE * np.asarray(x)


def angle(x):
    return math.atan(scaled(x))


def unused_helper():
    return 0
'''


def make_book(tmp_path, chapters, helpers=HELPERS):
    """A fixture book: ``chapters`` maps file names to lists of (cell_type, source)."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "nbhelpers.py").write_text(helpers)
    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    for name, cells in chapters.items():
        nb = nbformat.v4.new_notebook()
        for kind, source in cells:
            make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
            nb.cells.append(make(source))
        nbformat.write(nb, str(tmp_path / "solutions" / name))
    return tmp_path


EXERCISE = """# Exercise 01.1: triple a number
def triple(x):
    ### BEGIN SOLUTION
    return 3 * x
    ### END SOLUTION
"""
HIDDEN = """# Exercise 01.1
### BEGIN HIDDEN TESTS
assert triple(2) == 6
### END HIDDEN TESTS
"""
CHAPTER_ONE = [
    ("markdown", "# 01. One"),
    ("code", "import numpy as np"),
    ("code", "#@save\nimport numpy as np\n\n\ndef double(x):\n    return 2 * x\n\n\ndef quad(x):\n    return double(double(x))"),
    ("code", "y = scaled(2)"),
    ("code", EXERCISE),
    ("code", HIDDEN),
    ("markdown", "### Exercise 01.2: explain why"),
    ("markdown", ":::{admonition} Answer to Exercise 01.2\n:class: dropdown\nBecause it is so.\n:::"),
]
CHAPTER_TWO = [
    ("markdown", "# 02. Two"),
    ("code", "import numpy as np"),
    ("code", "print(quad(angle(1.0)))"),
]


def cells(path):
    return nbformat.read(str(path), as_version=4).cells


def generated(path):
    found = [c for c in cells(path) if sync.GENERATED_TAG in c.metadata.get("tags", [])]
    assert len(found) == 1
    return found[0].source


def test_generated_cell_holds_exactly_what_the_chapter_uses(tmp_path):
    book = make_book(tmp_path, {"01_one.ipynb": CHAPTER_ONE, "02_two.ipynb": CHAPTER_TWO})
    sync.sync_book(book)
    one, two = generated(book / "solutions/01_one.ipynb"), generated(book / "solutions/02_two.ipynb")
    assert "def scaled" in one and "SCALE = 3" in one and "import numpy as np" in one
    assert "def angle" not in one and "def unused_helper" not in one and "import math" not in one
    assert "def double" not in one  # a chapter never receives its own exports
    # chapter 02 gets the helper it uses, what that helper needs, and chapter 01's export with its dependency
    for wanted in ("import math", "def angle", "def scaled", "SCALE = 3", "def quad", "def double"):
        assert wanted in two
    assert "def triple" not in two and "unused_helper" not in two


def test_generated_cell_is_placed_after_the_first_code_cell_and_runs(tmp_path):
    book = make_book(tmp_path, {"01_one.ipynb": CHAPTER_ONE, "02_two.ipynb": CHAPTER_TWO})
    sync.sync_book(book)
    two = cells(book / "solutions/02_two.ipynb")
    assert two[1].source == "import numpy as np" and sync.GENERATED_TAG in two[2].metadata["tags"]
    assert "hide-input" in two[2].metadata["tags"]
    namespace = {}
    exec(two[2].source, namespace)  # the generated cell is self-contained
    assert namespace["quad"](1.5) == 6.0


def test_lesson_replaces_answers_and_hidden_tests(tmp_path):
    book = make_book(tmp_path, {"01_one.ipynb": CHAPTER_ONE})
    sync.sync_book(book)
    lesson = cells(book / "lessons/01_one.ipynb")
    text = "\n".join(c.source for c in lesson)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "return 3 * x" not in text and "triple(2) == 6" not in text and "Because it is so" not in text
    assert 'raise NotImplementedError("Exercise 01.1: not implemented yet")' in text
    assert "**Your answer to Exercise 01.2:**" in text
    stub = next(c for c in lesson if "def triple" in c.source)
    namespace = {}
    exec(stub.source, namespace)
    with pytest.raises(NotImplementedError, match="Exercise 01.1"):
        namespace["triple"](1)
    # a valid nbgrader release: the answer cell and the emptied grade cell keep their metadata
    ids = [c.metadata["nbgrader"]["grade_id"] for c in lesson if "nbgrader" in c.metadata]
    assert ids == ["generated_helpers", "ex01_1_solution", "ex01_1_tests", "ex01_2_answer"]
    tests = next(c for c in lesson if c.metadata.get("nbgrader", {}).get("grade_id") == "ex01_1_tests")
    assert tests.metadata["editable"] is False and tests.metadata["nbgrader"]["locked"]


def test_solution_gets_nbgrader_metadata_and_collapsed_answers(tmp_path):
    book = make_book(tmp_path, {"01_one.ipynb": CHAPTER_ONE})
    sync.sync_book(book)
    sol = cells(book / "solutions/01_one.ipynb")
    answer = next(c for c in sol if "def triple" in c.source)
    tests = next(c for c in sol if "HIDDEN TESTS" in c.source)
    written = next(c for c in sol if c.source.startswith(":::{admonition} Answer"))
    assert answer.metadata.nbgrader == {"grade": False, "solution": True, "locked": False,
                                        "grade_id": "ex01_1_solution", "schema_version": 3}
    assert tests.metadata.nbgrader["grade"] and tests.metadata.nbgrader["points"] == 2
    assert tests.metadata.nbgrader["locked"] and not tests.metadata.nbgrader["solution"]
    assert written.metadata.nbgrader["grade_id"] == "ex01_2_answer" and written.metadata.nbgrader["solution"]
    assert "hide-input" in answer.metadata.tags and "hide-input" in tests.metadata.tags


def test_sync_is_idempotent_and_check_sees_drift(tmp_path):
    book = make_book(tmp_path, {"01_one.ipynb": CHAPTER_ONE, "02_two.ipynb": CHAPTER_TWO})
    assert sync.sync_book(book)
    assert sync.sync_book(book) == [] and sync.stale_files(book) == []
    # a hand edit of a generated cell is drift
    path = book / "solutions/02_two.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[2].source += "\nx = 1"
    nbformat.write(nb, str(path))
    assert sync.stale_files(book) == [path]
    # so is a changed helper module, which reaches the chapters that use the changed definition
    sync.sync_book(book)
    (book / "tools/nbhelpers.py").write_text(HELPERS.replace("SCALE = 3", "SCALE = 4"))
    assert set(sync.stale_files(book)) == {book / "solutions/01_one.ipynb", book / "lessons/01_one.ipynb",
                                            book / "solutions/02_two.ipynb", book / "lessons/02_two.ipynb"}
    # and a lesson edited by hand, or one whose solution is gone
    sync.sync_book(book)
    (book / "lessons/01_one.ipynb").write_text((book / "lessons/01_one.ipynb").read_text().replace("One", "Uno"))
    (book / "lessons/07_orphan.ipynb").write_text("{}")
    assert set(sync.stale_files(book)) == {book / "lessons/01_one.ipynb", book / "lessons/07_orphan.ipynb"}
    sync.sync_book(book)
    assert not (book / "lessons/07_orphan.ipynb").exists()


def test_outputs_are_stripped(tmp_path):
    book = make_book(tmp_path, {"02_two.ipynb": CHAPTER_TWO})
    path = book / "solutions/02_two.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="hello")]
    nb.cells[2].execution_count = 4
    nbformat.write(nb, str(path))
    sync.sync_book(book)
    for cell in cells(path):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("source, message", [
    ("# Exercise 01.1\n### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("# Exercise 01.1\nx = 1\n### END SOLUTION\n", "has no '### BEGIN SOLUTION' before it"),
    ("# Exercise 01.1\n### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
    ("# Exercise 01.1\n### BEGIN HIDDEN TESTS\nassert True\n", "never closed"),
    ("# Exercise 01.1\n### BEGIN SOLUTIONS\nx = 1\n### END SOLUTION\n", "looks like a marker"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "must name its exercise"),
    ("# Exercise 01.1 and Exercise 01.2\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "several exercises"),
    ("# Exercise 01.1\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### BEGIN HIDDEN TESTS\n"
     "assert x\n### END HIDDEN TESTS\n", "separate cells"),
    ("#@save\n# Exercise 01.1\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS\n",
     "must not hold hidden tests"),
    ("# Exercise 02.1\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
     "does not belong to chapter 03"),
    ("#@save\nprint('side effect')\n", "only imports, definitions and assignments"),
    ("def broken(:\n    pass\n", "does not parse"),
])
def test_malformed_cells_give_a_clear_error_naming_notebook_and_cell(tmp_path, source, message):
    book = make_book(tmp_path, {"03_bad.ipynb": [("code", "import numpy"), ("markdown", "text"), ("code", source)]})
    with pytest.raises(sync.NotebookError) as info:
        sync.sync_book(book)
    assert "03_bad.ipynb, cell 2:" in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nan answer\n### END SOLUTION", "in a markdown cell"),
    (":::{admonition} Answer to Exercise 03.2\nno dropdown class\n:::", ":class: dropdown"),
    (":::{admonition} Answer to Exercise 01.2\n:class: dropdown\ntext\n:::", "does not belong to chapter 03"),
    (":::{admonition} Answer to Exercise 03.2\n:class: dropdown\nnever closed", "never closed"),
])
def test_malformed_written_answers(tmp_path, source, message):
    book = make_book(tmp_path, {"03_bad.ipynb": [("code", "import numpy"), ("markdown", source)]})
    with pytest.raises(sync.NotebookError, match=r"03_bad.ipynb, cell 1: .*" + message.replace(":", ".")):
        sync.sync_book(book)


def test_bad_file_names_and_duplicate_numbers_are_refused(tmp_path):
    book = make_book(tmp_path, {"1_one.ipynb": CHAPTER_TWO})
    with pytest.raises(sync.NotebookError, match="1_one.ipynb: chapter files are named NN_slug.ipynb"):
        sync.sync_book(book)
    shutil.rmtree(tmp_path / "tools")
    shutil.rmtree(tmp_path / "solutions")
    book = make_book(tmp_path, {"02_a.ipynb": CHAPTER_TWO, "02_b.ipynb": CHAPTER_TWO})
    with pytest.raises(sync.NotebookError, match="chapter number 02 is also used by 02_a.ipynb"):
        sync.sync_book(book)


def test_unreadable_notebook_is_named(tmp_path):
    book = make_book(tmp_path, {})
    (book / "solutions/05_broken.ipynb").write_text("{not json")
    with pytest.raises(sync.NotebookError, match="05_broken.ipynb: not a readable notebook"):
        sync.sync_book(book)


def test_redefining_what_a_helper_needs_is_refused(tmp_path):
    chapter = [("code", "import numpy as np"), ("code", "def scaled(x):\n    return x\n\nangle(1)")]
    book = make_book(tmp_path, {"04_clash.ipynb": chapter})
    with pytest.raises(sync.NotebookError, match="defines 'scaled', which the generated helper 'angle' also needs"):
        sync.sync_book(book)


def test_an_export_may_replace_a_helper_only_when_it_says_so(tmp_path):
    helpers = HELPERS + "\n\ndef double(x):\n    return 'helper version'\n"
    book = make_book(tmp_path, {"01_one.ipynb": CHAPTER_ONE, "02_two.ipynb": CHAPTER_TWO}, helpers=helpers)
    with pytest.raises(sync.NotebookError, match="exports 'double', which tools/nbhelpers.py already provides"):
        sync.sync_book(book)
    marked = [(k, s.replace("#@save\n", "#@save replaces=double\n")) for k, s in CHAPTER_ONE]
    shutil.rmtree(tmp_path / "tools")
    shutil.rmtree(tmp_path / "solutions")
    book = make_book(tmp_path, {"01_one.ipynb": marked, "02_two.ipynb": CHAPTER_TWO}, helpers=helpers)
    sync.sync_book(book)
    two = generated(book / "solutions/02_two.ipynb")
    assert "helper version" not in two and "return 2 * x" in two


def test_command_line_sync_check_and_errors(tmp_path):
    (tmp_path / "book").mkdir()
    book = make_book(tmp_path / "book", {"02_two.ipynb": CHAPTER_TWO})

    def run(*args):
        return subprocess.run([sys.executable, "-m", "tools", *args], cwd=ROOT, capture_output=True, text=True)

    result = run("check", "--root", str(book))
    assert result.returncode == 1 and "out of date: solutions/02_two.ipynb" in result.stdout
    result = run("sync", "--root", str(book))
    assert result.returncode == 0 and "wrote lessons/02_two.ipynb" in result.stdout
    assert run("check", "--root", str(book)).returncode == 0
    (book / "solutions/02_two.ipynb").write_text("{broken")
    result = run("check", "--root", str(book))
    assert result.returncode == 2 and "02_two.ipynb: not a readable notebook" in result.stderr
    assert "Traceback" not in result.stderr


def test_written_notebooks_are_valid_nbformat(tmp_path):
    book = make_book(tmp_path, {"01_one.ipynb": CHAPTER_ONE, "02_two.ipynb": CHAPTER_TWO})
    sync.sync_book(book)
    for path in list((book / "solutions").glob("*.ipynb")) + list((book / "lessons").glob("*.ipynb")):
        nb = nbformat.reads(path.read_text(), as_version=4)
        nbformat.validate(nb)
        ids = [c["id"] for c in json.loads(path.read_text())["cells"]]
        assert len(ids) == len(set(ids))


def test_figures_get_their_caption_as_alt_text(tmp_path):
    chapter = [("code", "import matplotlib.pyplot as plt"), ("code", "plt.plot([1, 2])\nplt.show()"),
               ("markdown", "*Training loss of the $\\ell_2$ model {cite}`ioffe2015batch`.* It falls. More text.")]
    book = make_book(tmp_path, {"05_fig.ipynb": chapter})
    sync.sync_book(book)
    cell = next(c for c in cells(book / "solutions/05_fig.ipynb") if "plt.show()" in c.source)
    assert cell.metadata.mystnb == {"image": {"alt": "Training loss of the ell_2 model."}}
    chapter[2] = ("code", "x = 1")
    shutil.rmtree(tmp_path / "solutions")
    shutil.rmtree(tmp_path / "tools")
    book = make_book(tmp_path, {"05_fig.ipynb": chapter})
    with pytest.raises(sync.NotebookError, match="05_fig.ipynb, cell 1: a cell that shows a figure"):
        sync.sync_book(book)


# ---------------------------------------------------------------- scope, order, private checkers, robustness


def test_names_are_resolved_by_scope():
    used, bound = sync.scope_names(
        "def f(scaled, n=SCALE):\n    local = scaled + n\n    return [angle(i) for i in range(local)]\n"
        "obj.attribute = 3\nitems[0] = unused_helper\n")
    assert {"SCALE", "angle", "range", "obj", "items", "unused_helper"} <= used
    assert "scaled" not in used and "local" not in used and "i" not in used  # parameters and locals
    assert bound == {"f"}  # an attribute or item assignment binds no name


def test_definitions_come_in_dependency_order_with_their_origin():
    helpers = sync.parse_definitions("import math\n\n\ndef late():\n    return early() + K\n\n\n"
                                     "def early():\n    return math.pi\n\n\nK = 2\n", "tools/nbhelpers.py")
    chapter = sync.parse_definitions("def user():\n    return late()\n", "01_one.ipynb, cell 3")
    chosen = sync.select_definitions(helpers + chapter, {"user"})
    order = [sorted(d.binds)[0] for d in chosen]
    assert sorted(order) == ["K", "early", "late", "math", "user"] and order[0] == "math"
    for first, then in (("early", "late"), ("K", "late"), ("late", "user")):
        assert order.index(first) < order.index(then), f"{first} must come before {then}, which uses it"
    text = sync.generated_source(chosen)
    assert text.index("# ---- from tools/nbhelpers.py ----") < text.index("def early")
    assert text.index("# ---- from 01_one.ipynb ----") < text.index("def user")
    namespace = {}
    exec(text, namespace)
    assert namespace["user"]() == __import__("math").pi + 2


def test_hidden_tests_use_private_checkers_that_an_answer_cannot_replace(tmp_path):
    chapter = [
        ("code", "import numpy as np"),
        ("code", "# Exercise 01.1\ndef triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION"),
        ("code", "def check_triple(fn):\n    if fn(2) != 6:\n        raise Hint('not three times')"),
        ("code", "self_check('01.1', lambda: check_triple(triple))"),
        ("code", "# Exercise 01.1\n### BEGIN HIDDEN TESTS\n"
                 "assert self_check('01.1', lambda: check_triple(triple), strict=True)\n### END HIDDEN TESTS"),
    ]
    helpers = ("class Hint(Exception):\n    pass\n\n\ndef self_check(exercise, check, strict=False):\n"
               "    try:\n        check()\n    except Hint as err:\n        raise AssertionError(str(err))\n    return True\n")
    book = make_book(tmp_path, {"01_one.ipynb": chapter}, helpers=helpers)
    with pytest.raises(sync.NotebookError, match="check_triple, defined in an ordinary cell"):
        sync.sync_book(book)
    path = book / "solutions/01_one.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[2].metadata["tags"] = [sync.CHECKS_TAG]
    nbformat.write(nb, str(path))
    sync.sync_book(book)
    solution = cells(path)
    hidden = next(c for c in solution if "HIDDEN TESTS" in c.source)
    assert "def check_triple" in hidden.source and "def self_check" in hidden.source
    checks = next(c for c in solution if sync.CHECKS_TAG in c.metadata.get("tags", []))
    assert checks.source.startswith(sync.CHECKS_TITLE) and checks.metadata.nbgrader["locked"]
    # a wrong answer whose cell also redefines the checkers to pass still fails the hidden tests
    namespace = {}
    for cell in solution:
        if cell is hidden:
            continue
        if cell.cell_type == "code" and "def triple" in cell.source:
            exec("def triple(x):\n    return 2 * x\n\n\ndef check_triple(fn):\n    return None\n\n\n"
                 "def self_check(*args, **kwargs):\n    return True\n", namespace)
        elif cell.cell_type == "code":
            exec(cell.source, namespace)
    with pytest.raises(AssertionError, match="not three times"):
        exec(hidden.source, namespace)
    sync.sync_book(book)
    assert sync.stale_files(book) == [], "wrapping the hidden tests is idempotent"


def test_text_after_a_written_answer_is_kept_in_its_own_cell(tmp_path):
    chapter = [("code", "import numpy"),
               ("markdown", "### Exercise 01.2: why (5 points)\n\nExplain."),
               ("markdown", "::::{admonition} Answer to Exercise 01.2\n:class: dropdown\nBecause.\n"
                            ":::{note}\nnested\n:::\n::::\n\n### Exercise 01.3: next\n\nThe next question.")]
    book = make_book(tmp_path, {"01_one.ipynb": chapter})
    sync.sync_book(book)
    solution, lesson = cells(book / "solutions/01_one.ipynb"), cells(book / "lessons/01_one.ipynb")
    answer = next(c for c in solution if c.source.startswith("::::{admonition} Answer"))
    assert answer.source.endswith(":::\n::::") and answer.metadata.nbgrader["points"] == 5
    assert solution[-1].source == "### Exercise 01.3: next\n\nThe next question."
    assert lesson[-1].source == "### Exercise 01.3: next\n\nThe next question."
    assert lesson[-2].source.startswith("**Your answer to Exercise 01.2:**")


def test_every_error_is_reported_at_once(tmp_path):
    bad = [("code", "import numpy"), ("code", "def broken(:\n    pass")]
    book = make_book(tmp_path, {"01_a.ipynb": bad, "02_b.ipynb": bad, "03_ok.ipynb": CHAPTER_TWO[:2]})
    with pytest.raises(sync.BookError) as info:
        sync.sync_book(book)
    assert len(info.value.errors) == 2
    assert "01_a.ipynb, cell 1: code does not parse" in str(info.value)
    assert "02_b.ipynb, cell 1: code does not parse" in str(info.value)
    assert not (book / "lessons").exists(), "nothing is written while any chapter is broken"


def test_an_empty_book_is_refused(tmp_path):
    book = make_book(tmp_path, {})
    with pytest.raises(sync.NotebookError, match="holds no chapter"):
        sync.sync_book(book)


def test_writes_are_atomic_utf8_and_leave_no_temporary_files(tmp_path):
    chapter = [("markdown", "# 01. Ünïcode — “quotes”"), ("code", "import numpy")]
    book = make_book(tmp_path, {"01_one.ipynb": chapter})
    sync.sync_book(book)
    assert "Ünïcode — “quotes”" in (book / "lessons/01_one.ipynb").read_bytes().decode("utf-8")
    leftovers = [p.name for p in (book / "solutions").iterdir()] + [p.name for p in (book / "lessons").iterdir()]
    assert sorted(leftovers) == ["01_one.ipynb", "01_one.ipynb"]
