"""Rewrite the MyST Markdown of the chapters into plain Markdown that Colab and JupyterLab render.

The book is built by jupyter-book, which understands MyST: citation roles (``{cite}`key` ``),
admonition fences (``:::{admonition} Title``), the ``{bibliography}`` directive, cross-reference
roles and ``(label)=`` targets. Students read the lessons in Colab and JupyterLab, whose Markdown
renderers show all of that as raw text. :func:`colab_markdown` converts one markdown cell:

- citations become author-year text, "(Ioffe and Szegedy, 2015; He et al., 2016)" or
  "Ioffe and Szegedy (2015)", from ``references.bib`` (:func:`load_bibliography`);
- an admonition becomes a ``<details>`` block when it has the ``dropdown`` class, else a blockquote;
- the bibliography directive becomes a bulleted list of the works the notebook cites
  (:func:`cited_keys` collects them over all its markdown cells);
- ``{math}``, ``{eq}``, ``{ref}``, ``{numref}``, ``{doc}``, ``{term}`` become readable text, and
  ``(label)=`` lines disappear.

Everything else, code fences and inline code included, is returned unchanged. An unknown role or
directive, or an unknown citation key, raises ValueError: nothing raw slips into a lesson unnoticed.
"""

import copy
import functools
import html
import os
import re
import unicodedata
from dataclasses import dataclass

from pybtex.database import parse_file
from pybtex.richtext import Text

# ---------------------------------------------------------------- the bibliography

# Where the "venue" of a work is, by preference: the journal or proceedings before the publisher.
VENUE_FIELDS = ("journal", "booktitle", "howpublished", "school", "institution", "publisher")
DOI_PREFIX_RE = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:)", re.IGNORECASE)


@functools.lru_cache(maxsize=None)
def _text_backend():
    # pybtex looks its plugins up through importlib.metadata on every render_as call, which costs
    # tens of milliseconds each; one backend object, reused, avoids it.
    from pybtex.plugin import find_plugin

    return find_plugin("pybtex.backends", "text")()


@functools.lru_cache(maxsize=4096)
def _latex_text(value):
    """BibTeX field text as plain Unicode: accents decoded, protective braces dropped, spaces collapsed."""
    return " ".join(Text.from_latex(value).render(_text_backend()).split())


@functools.lru_cache(maxsize=8)
def _parsed_bibliography(path, mtime):
    data = parse_file(path, bib_format="bibtex")
    return {key: _entry_dict(key, entry) for key, entry in data.entries.items()}


def _initials(person):
    """'Djork-Arné' 'P.' -> 'D.-A. P.' (the form used in the reference list)."""
    names = [_latex_text(name) for name in person.first_names + person.middle_names]
    return " ".join("-".join(part[:1] + "." for part in name.split("-") if part) for name in names)


def _person(person):
    """Last name (with its 'van der'), full name, and 'Last, F.' for one pybtex Person."""
    last = _latex_text(" ".join(person.prelast_names + person.last_names))
    lineage = _latex_text(" ".join(person.lineage_names))
    full = _latex_text(" ".join(person.first_names + person.middle_names)) + " " + last
    initials = _initials(person)
    short = f"{last}, {initials}" if initials else last
    if lineage:
        full, short = f"{full}, {lineage}", f"{short}, {lineage}"
    return last, full.strip(), short


def _entry_dict(key, entry):
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    people = [_person(p) for p in persons]
    fields = entry.fields
    venue = next((fields[name] for name in VENUE_FIELDS if fields.get(name)), "")
    return {
        "key": key,
        "type": entry.type,
        "authors": [last for last, _, _ in people],
        "full_names": [full for _, full, _ in people],
        "reference_names": [short for _, _, short in people],
        "year": fields.get("year", "n.d.").strip(),
        "title": _latex_text(fields.get("title", "")),
        "venue": _latex_text(venue),
        "doi": DOI_PREFIX_RE.sub("", fields.get("doi", "").strip()),
        "url": fields.get("url", "").strip(),
    }


def load_bibliography(bib_path):
    """Read a BibTeX file into ``{key: entry}``, each entry a dict of plain-text fields.

    Keys: ``key``, ``type``, ``authors`` (last names, e.g. "van der Maaten"), ``full_names``
    ("Laurens van der Maaten"), ``reference_names`` ("van der Maaten, L."), ``year``, ``title``,
    ``venue`` (journal, booktitle, howpublished, school, institution or publisher), ``doi`` (bare,
    "10.x/y") and ``url``; missing fields are empty strings (the year is "n.d."). Editors stand in for
    missing authors.
    """
    path = os.path.abspath(str(bib_path))
    return copy.deepcopy(_parsed_bibliography(path, os.stat(path).st_mtime_ns))


# ---------------------------------------------------------------- citations

# Role -> (form, all authors?), following sphinxcontrib-bibtex: plain {cite} is {cite:p}, and an
# "s" suffix lists every author instead of "et al.".
CITE_ROLES = {
    "cite": ("parenthetical", False),
    "cite:p": ("parenthetical", False),
    "cite:ps": ("parenthetical", True),
    "cite:t": ("textual", False),
    "cite:ts": ("textual", True),
    "cite:author": ("author", False),
    "cite:authors": ("author", True),
    "cite:year": ("year", False),
}
# One target of a citation: "key", with optional pre- and post-text as in "{see}key{p. 3}".
CITATION_TARGET_RE = re.compile(
    r"\s*(?:\{(?P<pre>[^{}]*)\})?\s*(?P<key>[^{}\s,]+)\s*(?:\{(?P<post>[^{}]*)\})?\s*"
)


def _citation_targets(content):
    """'a, {see}b{p. 3}' -> [('', 'a', ''), ('see', 'b', 'p. 3')]."""
    targets, pos = [], 0
    while True:
        match = CITATION_TARGET_RE.match(content, pos)
        if match is None or match.end() < len(content) and content[match.end()] != ",":
            raise ValueError(f"malformed citation {content!r}")
        targets.append((match["pre"] or "", match["key"], match["post"] or ""))
        if match.end() == len(content):
            return targets
        pos = match.end() + 1


def _author_names(entry, every_author):
    """'Smith', 'Smith and Jones', then 'Smith et al.' (or every name, when asked for all)."""
    names = entry["authors"]
    if not names:
        return entry["title"]  # what sphinxcontrib-bibtex falls back on, too
    if len(names) <= 2:
        return " and ".join(names)
    if every_author:
        return ", ".join(names[:-1]) + ", and " + names[-1]
    return names[0] + " et al."


def _join(*parts, sep=" "):
    return sep.join(part for part in parts if part)


def format_citation(role, content, bibliography):
    """The author-year text that sphinxcontrib-bibtex would show for ``{role}`content` ``."""
    form, every_author = CITE_ROLES[role]
    pieces = []
    for pre, key, post in _citation_targets(content):
        if key not in bibliography:
            raise ValueError(f"unknown citation key {key!r} (not in the bibliography)")
        entry = bibliography[key]
        names, year = _author_names(entry, every_author), entry["year"]
        if form == "parenthetical":
            pieces.append(_join(_join(pre, f"{names}, {year}"), post, sep=", "))
        elif form == "textual":
            pieces.append(f"{names} ({_join(_join(pre, year), post, sep=', ')})")
        else:
            pieces.append(names if form == "author" else year)
    if form == "parenthetical":
        return "(" + "; ".join(pieces) + ")"
    return ", ".join(pieces)


# ---------------------------------------------------------------- the reference list


def _fold(text):
    """Sort key for names: case and accents ignored, so 'Müller' sorts with 'Muller'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _sentence(text):
    """Text ending with exactly one full stop (titles may end with '?' already)."""
    return text if text.endswith((".", "?", "!")) else text + "."


def _name_list(names):
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def format_reference(entry):
    """One reference-list line: '- Last, F. and Other, G. (2015). Title. *Venue*. [doi:...](...)'."""
    if entry["reference_names"]:
        parts = [f"{_name_list(entry['reference_names'])} ({entry['year']}).", _sentence(entry["title"])]
    else:
        parts = [f"{entry['title']} ({entry['year']})."]
    if entry.get("venue"):
        venue = f"*{entry['venue']}*"
        parts.append(venue if entry["venue"].endswith(".") else venue + ".")
    if entry.get("doi"):
        parts.append(f"[doi:{entry['doi']}](https://doi.org/{entry['doi']})")
    elif entry.get("url"):
        parts.append(f"<{entry['url']}>")
    return "- " + " ".join(parts)


def _sort_key(entry):
    names = [_fold(name) for name in entry["authors"]] or [_fold(entry["title"])]
    return names, entry["year"], _fold(entry["title"])


def reference_list(keys, bibliography):
    """The bulleted list of the works ``keys``, alphabetical by authors, then year and title."""
    for key in keys:
        if key not in bibliography:
            raise ValueError(f"unknown citation key {key!r} (not in the bibliography)")
    entries = sorted((bibliography[key] for key in dict.fromkeys(keys)), key=_sort_key)
    return "\n".join(format_reference(entry) for entry in entries)


# ---------------------------------------------------------------- blocks: fences and directives

# A fence opening: ``` or ~~~ (code, or a directive when the info string is {name}), or ::: (MyST's
# colon fence, always a directive here). Any indentation, so that fences inside list items count.
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE_INFO_RE = re.compile(r"^\{(?P<name>[^{}\s]+)\}\s*(?P<argument>.*?)\s*$")
OPTION_RE = re.compile(r"^:(?P<name>[\w-]+):\s*(?P<value>.*?)\s*$")
LABEL_RE = re.compile(r"^[ \t]*\([^()\s]+\)=\s*$")  # a MyST target line, "(sec-intro)="

ADMONITION_TITLES = {
    "note": "Note",
    "tip": "Tip",
    "warning": "Warning",
    "important": "Important",
    "hint": "Hint",
    "seealso": "See also",
    "attention": "Attention",
    "caution": "Caution",
    "danger": "Danger",
    "error": "Error",
}


@dataclass
class Fence:
    """An opening fence line: its indentation, fence characters, and directive (None for code)."""

    indent: str
    char: str
    length: int
    name: str = None
    argument: str = ""

    def closes(self, line):
        """Whether ``line`` ends this fence: the same character, at least as many, nothing else."""
        stripped = line.strip()
        return len(stripped) >= self.length and stripped == self.char * len(stripped)


def _open_fence(line):
    """The Fence that ``line`` opens, or None for an ordinary line."""
    match = FENCE_RE.match(line)
    if match is None:
        return None
    fence, info = match["fence"], match["info"].strip()
    if fence[0] == "`" and "`" in info:
        return None  # CommonMark: a backtick fence's info string has no backticks (this is inline code)
    directive = DIRECTIVE_INFO_RE.match(info)
    if directive is None:
        if fence[0] == ":":
            raise ValueError(f"a colon fence without a {{directive}} name: {line.strip()!r}")
        return Fence(match["indent"], fence[0], len(fence))
    return Fence(match["indent"], fence[0], len(fence), directive["name"], directive["argument"])


def _split_options(lines):
    """Directive options (``:class: dropdown`` lines, or a ``---`` YAML block) and the body after them."""
    options = {}
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), len(lines))
        for line in lines[1:end]:
            name, _, value = line.partition(":")
            options[name.strip()] = value.strip()
        return options, lines[end + 1 :]
    i = 0
    while i < len(lines) and OPTION_RE.match(lines[i]):
        match = OPTION_RE.match(lines[i])
        options[match["name"]] = match["value"]
        i += 1
    return options, lines[i:]


def _trim_blank_lines(lines):
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _details(title, body):
    """A collapsed block; the blank lines let Markdown inside it render."""
    summary = f"<details><summary><b>{html.escape(title, quote=False)}</b></summary>"
    return f"{summary}\n\n{body}\n\n</details>" if body else f"{summary}\n\n</details>"


def _blockquote(title, body):
    lines = [f"> **{title}**"]
    if body:
        lines.append(">")
        lines += [f"> {line}" if line.strip() else ">" for line in body.split("\n")]
    return "\n".join(lines)


# ---------------------------------------------------------------- inline: roles and code spans

# Scanned left to right, so that a backslash escape or an inline code span is consumed whole and a
# role-like text inside it is left alone. A role is {name} directly followed by a code span.
INLINE_RE = re.compile(
    r"\\[\s\S]"
    r"|\{(?P<role>[A-Za-z][\w:+.-]*)\}(?P<role_ticks>`+)(?!`)(?P<content>[\s\S]*?)(?<!`)(?P=role_ticks)(?!`)"
    r"|(?<!`)(?P<ticks>`+)(?!`)[\s\S]*?(?<!`)(?P=ticks)(?!`)"
)
TARGET_RE = re.compile(r"^(?P<text>[\s\S]*?)\s*<(?P<target>[^<>]+)>$")  # "text <target>"
BLANK_LINE_RE = re.compile(r"(\n[ \t]*\n)")


def _text_and_target(content):
    """'text <label>' -> ('text', 'label'); 'label' -> ('', 'label')."""
    match = TARGET_RE.match(content.strip())
    return (match["text"], match["target"].strip()) if match else ("", content.strip())


def format_role(name, content):
    """Readable text for a non-citation role; the link targets mean nothing outside the book."""
    text, target = _text_and_target(content)
    if name == "math":
        return f"${content}$"
    if name == "eq":
        return f"({target})"
    if name in ("ref", "doc", "term"):
        return text or target
    if name == "numref":
        return text.replace("%s", target).replace("{number}", target) if text else target
    raise ValueError(f"unknown MyST role {{{name}}} in {{{name}}}`{content}`")


class _Converter:
    """Converts MyST Markdown; subclassed by :class:`_KeyCollector` to find citations instead."""

    def __init__(self, bibliography, cited):
        self.bibliography, self.cited = bibliography, cited

    def convert(self, source):
        lines = source.split("\n")
        pieces, text, i = [], [], 0
        while i < len(lines):
            fence = _open_fence(lines[i])
            if fence is None:
                if not LABEL_RE.match(lines[i]):
                    text.append(lines[i])
                i += 1
                continue
            if text:
                pieces.append(self._inline("\n".join(text)))
                text = []
            end = next((j for j in range(i + 1, len(lines)) if fence.closes(lines[j])), None)
            if fence.name is None:  # ordinary code, copied as it is (to the end if never closed)
                end = len(lines) - 1 if end is None else end
                pieces.append("\n".join(lines[i : end + 1]))
            elif end is None:
                raise ValueError(f"the {{{fence.name}}} fence opened by {lines[i].strip()!r} is never closed")
            else:
                pieces.append(self._directive(fence, lines[i + 1 : end]))
            i = end + 1
        if text:
            pieces.append(self._inline("\n".join(text)))
        return "\n".join(pieces)

    def _inline(self, text):
        # A code span cannot cross a blank line, so each paragraph is scanned on its own: a stray
        # backtick in one paragraph must not hide a role in the next.
        parts = BLANK_LINE_RE.split(text)
        parts[::2] = [INLINE_RE.sub(self._inline_match, part) for part in parts[::2]]
        return "".join(parts)

    def _inline_match(self, match):
        name = match["role"]
        if name is None:
            return match[0]  # an escape or inline code
        if name in CITE_ROLES:
            return self._citation(name, match["content"])
        return format_role(name, match["content"])

    def _citation(self, role, content):
        return format_citation(role, content, self.bibliography)

    def _directive(self, fence, lines):
        body = [line[len(fence.indent) :] if line.startswith(fence.indent) else line for line in lines]
        options, body = _split_options(body)
        if fence.name == "bibliography":
            result = self._bibliography(options)
        elif fence.name == "admonition" or fence.name in ADMONITION_TITLES:
            result = self._admonition(fence, options, body)
        else:
            raise ValueError(f"unknown MyST directive {{{fence.name}}}: tools/mdconvert.py cannot convert it")
        return "\n".join(fence.indent + line if line else line for line in result.split("\n"))

    def _admonition(self, fence, options, body):
        if fence.name == "admonition":
            if not fence.argument:
                raise ValueError("an {admonition} needs a title")
            title = fence.argument
        else:
            # A named admonition takes no title: text on its opening line is the start of its body.
            title = ADMONITION_TITLES[fence.name]
            body = ([fence.argument] if fence.argument else []) + body
        title = self._inline(title)
        inner = self.convert("\n".join(_trim_blank_lines(body)))
        if "dropdown" in options.get("class", "").split():
            return _details(title, inner)
        return _blockquote(title, inner)

    def _bibliography(self, options):
        keys = list(self.bibliography) if "all" in options else self.cited
        return reference_list(keys, self.bibliography)


class _KeyCollector(_Converter):
    """Walks the Markdown like the converter, recording citation keys instead of formatting them."""

    def __init__(self):
        super().__init__({}, [])
        self.keys = []

    def _citation(self, role, content):
        for _, key, _ in _citation_targets(content):
            if key not in self.keys:
                self.keys.append(key)
        return ""

    def _bibliography(self, options):
        return ""


def _collect_keys(sources):
    collector = _KeyCollector()
    for source in sources:
        collector.convert(source)
    return collector.keys


def cited_keys(sources):
    """Citation keys in order of first appearance across ``sources`` (markdown strings).

    Citations inside code fences and inline code are not citations and are not counted.
    """
    return _collect_keys(sources)


def colab_markdown(source, bibliography, cited_keys=None):
    """Rewrite one markdown cell's MyST so that Colab and JupyterLab render it.

    ``bibliography`` comes from :func:`load_bibliography`. ``cited_keys`` are the works listed by a
    ``{bibliography}`` directive: pass ``cited_keys(...)`` of the whole notebook; by default, the keys
    cited in ``source`` itself. Raises ValueError for an unknown citation key, role or directive.
    """
    keys = _collect_keys([source]) if cited_keys is None else list(cited_keys)
    return _Converter(bibliography, keys).convert(source)
