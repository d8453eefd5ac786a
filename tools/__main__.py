"""Command line: ``python -m tools sync | check | to-notebook SCRIPT NOTEBOOK | to-script NOTEBOOK SCRIPT``."""

import argparse
import sys
from pathlib import Path

import nbformat

from . import scripts, sync


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
        elif args.command == "to-notebook":
            nb = scripts.script_to_notebook(args.script.read_text())
            args.notebook.write_text(sync.dumps(nb))
        else:
            args.script.write_text(scripts.notebook_to_script(nbformat.read(str(args.notebook), as_version=4)))
    except ValueError as err:  # NotebookError included: a clear one-line message, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
