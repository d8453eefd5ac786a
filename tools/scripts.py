"""Convert between a chapter notebook and a percent-format script, for authors who write in an editor.

``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose lines are ``# ``-prefixed
comments, and ``# %% tags=["a", "b"]`` gives a code cell tags. The notebook stays the source of truth:
convert, edit, convert back, then run ``python -m tools sync``.
"""

import json
import re

import nbformat

HEADER_RE = re.compile(r"^# %%(?P<markdown> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def script_to_notebook(text):
    """A notebook from percent-format ``text``; raises ValueError naming the line of a bad header."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("# %%"):
            match = HEADER_RE.match(line)
            if not match:
                raise ValueError(f"line {number}: cannot read the cell header {line!r}")
            current = {"markdown": bool(match.group("markdown")), "lines": [],
                       "tags": json.loads(match.group("tags")) if match.group("tags") else []}
            nb.cells.append(current)
        elif current is None:
            if line.strip():
                raise ValueError(f"line {number}: text before the first '# %%' cell header")
        else:
            current["lines"].append(line)
    cells = []
    for cell in nb.cells:
        lines = cell["lines"]
        while lines and not lines[-1].strip():
            lines.pop()
        if cell["markdown"]:
            bad = [l for l in lines if l and not l.startswith("#")]
            if bad:
                raise ValueError(f"a markdown cell holds a line that is not a '# ' comment: {bad[0]!r}")
            made = nbformat.v4.new_markdown_cell("\n".join(l[2:] if l.startswith("# ") else l[1:] for l in lines))
        else:
            made = nbformat.v4.new_code_cell("\n".join(lines))
        if cell["tags"]:
            made.metadata["tags"] = cell["tags"]
        cells.append(made)
    nb.cells = cells
    return nb


def notebook_to_script(nb):
    parts = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        suffix = f" tags={json.dumps(tags)}" if tags else ""
        if cell.cell_type == "markdown":
            body = "\n".join(("# " + l) if l else "#" for l in cell.source.splitlines())
            parts.append(f"# %% [markdown]{suffix}\n{body}")
        else:
            parts.append(f"# %%{suffix}\n{cell.source}")
    return "\n\n".join(parts) + "\n"
