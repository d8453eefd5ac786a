"""The command line, ``python -m tools``: script <-> notebook conversion (jupytext's percent format) and its errors.

``sync`` and ``check`` on fixture books are tested in test_tools_sync.py; here only what they do with a missing
folder.
"""

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT

from tools.__main__ import main

CHAPTER = ROOT / "solutions" / "04_clipping.ipynb"


def cells(path):
    """(type, source, tags, metadata, id) of every cell of the notebook at ``path``."""
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    return [
        (c.cell_type, c.source, c.metadata.get("tags", []), c.metadata, c.get("id"))
        for c in nb.cells
    ]


def run(*args):
    """``python -m tools ARGS`` in a fresh interpreter, as a reader types it."""
    return subprocess.run(
        [sys.executable, "-m", "tools", *map(str, args)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def assert_one_line_error(capsys, code, *words):
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert all(word in err for word in words), err


@pytest.fixture
def chapter(tmp_path):
    """A copy of a real chapter, so the tests never write into solutions/."""
    path = tmp_path / CHAPTER.name
    path.write_text(CHAPTER.read_text())
    return path


def test_chapter_round_trip_keeps_sources_types_tags_metadata_and_ids(
    chapter, tmp_path
):
    script = tmp_path / "chapter.py"
    before = cells(chapter)
    assert main(["to-script", str(chapter), str(script)]) == 0
    text = script.read_text()
    assert text.startswith("# %% [markdown]\n# # 04."), (
        "no YAML header: the script starts with the first cell"
    )
    assert text.count("\n# %%") + 1 == len(before)
    assert 'tags=["hide-input"]' in text and "nbgrader={" in text
    assert main(["to-notebook", str(script), str(chapter)]) == 0
    assert cells(chapter) == before
    assert (
        json.loads(chapter.read_text())["metadata"]
        == json.loads(CHAPTER.read_text())["metadata"]
    )
    # a second trip changes nothing at all
    again = tmp_path / "again.py"
    assert main(["to-script", str(chapter), str(again)]) == 0
    assert again.read_text() == text


def test_a_new_notebook_gets_the_cells_and_fresh_unique_ids(chapter, tmp_path):
    script, fresh = tmp_path / "chapter.py", tmp_path / "fresh.ipynb"
    assert main(["to-script", str(chapter), str(script)]) == 0
    assert main(["to-notebook", str(script), str(fresh)]) == 0
    made = cells(fresh)
    assert [c[:4] for c in made] == [c[:4] for c in cells(chapter)]
    ids = [c[4] for c in made]
    assert all(ids) and len(set(ids)) == len(ids)
    assert nbformat.read(str(fresh), as_version=4).metadata.kernelspec.name == "python3"


def test_editing_the_script_keeps_the_ids_of_the_cells_that_are_still_there(
    chapter, tmp_path
):
    script = tmp_path / "chapter.py"
    before = cells(chapter)
    assert main(["to-script", str(chapter), str(script)]) == 0
    parts = script.read_text().split("\n# %%")
    # edit the fourth cell, insert a new code cell after it, and delete the sixth cell
    code = next(i for i, c in enumerate(before) if i > 3 and c[0] == "code")
    parts[code] = parts[code].rstrip("\n") + "\nprint('an edit')\n"
    parts.insert(code + 1, "\nnew_cell = 1\n")
    del parts[code + 3]
    script.write_text("\n# %%".join(parts))
    assert main(["to-notebook", str(script), str(chapter)]) == 0
    after = cells(chapter)
    assert len(after) == len(before)
    expected = (
        before[: code + 1] + [None] + before[code + 1 : code + 2] + before[code + 3 :]
    )
    for old, new in zip(expected, after):
        if old is None:
            assert new[:2] == ("code", "new_cell = 1") and new[4] not in {
                c[4] for c in before
            }
        elif old is expected[code]:
            assert new[1] == old[1] + "\nprint('an edit')" and new[4] == old[4], (
                "an edited cell keeps its id"
            )
        else:
            assert new == old


def test_a_hand_written_script(tmp_path):
    script, notebook = tmp_path / "ch.py", tmp_path / "ch.ipynb"
    script.write_text(
        "# %% [markdown]\n# # Title\n#\n# Some *text*.\n\n"
        '# %% tags=["hide-input"]\nx = 1\n\n\ndef f():\n    return x\n\n# %%\nprint(f())\n'
    )
    assert main(["to-notebook", str(script), str(notebook)]) == 0
    made = cells(notebook)
    assert [(c[0], c[1], c[2]) for c in made] == [
        ("markdown", "# Title\n\nSome *text*.", []),
        ("code", "x = 1\n\n\ndef f():\n    return x", ["hide-input"]),
        ("code", "print(f())", []),
    ]


@pytest.mark.parametrize("command", ["to-script", "to-notebook"])
def test_missing_input(command, tmp_path, capsys):
    missing = tmp_path / ("nothing.ipynb" if command == "to-script" else "nothing.py")
    code = main([command, str(missing), str(tmp_path / "out")])
    assert_one_line_error(capsys, code, "nothing.")
    assert not (tmp_path / "out").exists()


def test_unreadable_inputs(chapter, tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{broken")
    assert_one_line_error(
        capsys,
        main(["to-script", str(broken), str(tmp_path / "x.py")]),
        "broken.ipynb",
        "not a readable notebook",
    )
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00\x81 not text")
    assert_one_line_error(
        capsys,
        main(["to-notebook", str(binary), str(tmp_path / "x.ipynb")]),
        "binary.py",
        "not a UTF-8 text file",
    )
    assert_one_line_error(
        capsys,
        main(["to-notebook", str(tmp_path), str(tmp_path / "x.ipynb")]),
        "Is a directory",
    )
    # a script converted onto a notebook that is not one leaves that file alone
    script = tmp_path / "ch.py"
    script.write_text("# %%\nx = 1\n")
    assert_one_line_error(
        capsys, main(["to-notebook", str(script), str(broken)]), "broken.ipynb"
    )
    assert broken.read_text() == "{broken"
    # nowhere to write
    assert_one_line_error(
        capsys,
        main(["to-script", str(chapter), str(tmp_path / "no" / "such" / "x.py")]),
        "No such file or directory",
    )


@pytest.mark.parametrize("command", ["sync", "check"])
def test_missing_book_folder(command, tmp_path, capsys):
    assert_one_line_error(capsys, main([command, "--root", str(tmp_path / "nowhere")]))


def test_exit_codes_from_the_shell(chapter, tmp_path):
    script = tmp_path / "ch.py"
    result = run("to-script", chapter, script)
    assert result.returncode == 0 and result.stderr == "" and script.exists()
    result = run("to-notebook", tmp_path / "absent.py", tmp_path / "x.ipynb")
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr.startswith("error: ")
        and result.stderr.count("\n") == 1
        and "absent.py" in result.stderr
    )
    assert "Traceback" not in result.stderr
    result = run("to-script", chapter)  # a missing argument is a usage error
    assert result.returncode == 2 and "usage:" in result.stderr
