"""Command line: ``python -m tools sync | check | bench | to-notebook SCRIPT NOTEBOOK | to-script NOTEBOOK SCRIPT``."""

import argparse
import copy
import sys
from pathlib import Path

from . import sync

# Scripts are jupytext's percent format without a YAML header: `# %%` starts a code cell, `# %% [markdown]` a
# markdown cell of `# `-prefixed lines, and a cell's metadata (tags, nbgrader, ...) follows on its `# %%` line.
SCRIPT_FORMAT = "py:percent"
NEW_NOTEBOOK_METADATA = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}


def notebook_to_script(nb):
    """The percent-format text of ``nb``: every cell's source, type and metadata; no notebook metadata."""
    import jupytext

    nb = copy.deepcopy(nb)
    nb.metadata = {"jupytext": {"notebook_metadata_filter": "-all"}}
    return jupytext.writes(nb, fmt=SCRIPT_FORMAT)


def script_to_notebook(text, existing=None):
    """A notebook from percent-format ``text``. Given the ``existing`` notebook the script was made from, cells
    that match one of its cells (same type and source, or an edited cell in the same place) keep that cell's id,
    and the notebook keeps its metadata: converting back and forth changes only what was edited."""
    import jupytext
    from jupytext.combine import combine_inputs_with_outputs
    from nbformat.corpus.words import generate_corpus_id

    nb = jupytext.reads(text, fmt=SCRIPT_FORMAT)
    if existing is None:
        nb.metadata = copy.deepcopy(NEW_NOTEBOOK_METADATA)
        return nb
    merged = combine_inputs_with_outputs(nb, copy.deepcopy(existing), fmt=SCRIPT_FORMAT)
    merged.metadata = copy.deepcopy(existing.metadata)
    merged.nbformat_minor = max(merged.nbformat_minor, 5)  # cell ids need 4.5; an older notebook gets them now
    for cell in merged.cells:
        cell.setdefault("id", generate_corpus_id())
    return merged


def read_text(path):
    """The text of the file at ``path``; a ValueError with a one-line message if there is none to read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("sync", "rewrite generated helper cells, normalize solutions/, regenerate lessons/"),
                       ("check", "exit 1 if `sync` would change any file")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--root", type=Path, default=sync.ROOT, help="the book's folder (default: this one)")
    to_nb = sub.add_parser("to-notebook", help="percent-format script -> notebook")
    to_nb.add_argument("script", type=Path)
    to_nb.add_argument("notebook", type=Path)
    to_py = sub.add_parser("to-script", help="notebook -> percent-format script")
    to_py.add_argument("notebook", type=Path)
    to_py.add_argument("script", type=Path)
    bench = sub.add_parser("bench", help="run the chapters with live widgets; write a table of run times, "
                                          "slider first-visit latencies and NumPy/torch layer speed")
    bench.add_argument("--chapters", nargs="+", metavar="NN", help="only these chapters, e.g. --chapters 01 06")
    bench.add_argument("--out", type=Path, help="folder for bench.md and bench.json (default: _build)")
    bench.add_argument("--root", type=Path, default=sync.ROOT, help="the book's folder (default: this one)")
    key = sub.add_parser("choice-key", help="print the key of a multiple-choice exercise for check_choice")
    key.add_argument("exercise", help="the exercise id, e.g. 05.5")
    key.add_argument("--right", required=True, help="the right letter")
    key.add_argument("--feedback", type=Path, required=True,
                     help="a JSON file mapping every letter to the feedback a student sees on choosing it")
    key.add_argument("--name", default="CHOICE_KEY", help="the variable to assign the key to")
    args = parser.parse_args(argv)
    try:
        if args.command == "sync":
            changed = sync.sync_book(args.root)
            for path in changed:
                print(f"wrote {path.relative_to(args.root)}")
            print(f"{len(changed)} file(s) changed")
        elif args.command == "check":
            stale = sync.stale_files(args.root)
            for path in stale:
                print(f"out of date: {path.relative_to(args.root)}")
            if stale:
                print("run `python -m tools sync` and commit the result")
                return 1
            print("all generated cells and lessons are current")
        elif args.command == "bench":
            from . import bench as bench_module

            return bench_module.run(args.root, args.chapters, args.out)
        elif args.command == "choice-key":
            from . import choices

            print(choices.main(args.exercise, args.right, args.feedback, args.name), end="")
        elif args.command == "to-notebook":
            text = read_text(args.script)
            existing = sync.read_notebook(args.notebook) if args.notebook.exists() else None
            args.notebook.write_text(sync.dumps(script_to_notebook(text, existing)), encoding="utf-8")
        elif args.command == "to-script":
            args.script.write_text(notebook_to_script(sync.read_notebook(args.notebook)), encoding="utf-8")
    except ValueError as err:  # NotebookError included: a clear one-line message, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a missing, unreadable or unwritable file or folder
        print(f"error: {err.filename or ''}{': ' if err.filename else ''}{err.strerror or err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
