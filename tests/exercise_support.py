"""Shared by the wrong-answer tests of the chapters' exercises (tests/test_exercises_NN.py)."""

import contextlib
import warnings

import nbformat
import pytest

from conftest import ROOT
from tools import sync


def chapter_namespace(stem, keep=lambda source: False):
    """Run what a chapter's checkers need, never its experiments.

    That is the imports (the first code cell), the generated helpers, the ``checks`` cells, the
    exported cells and the answer cells that draw nothing, plus any cell for which ``keep(source)``
    is true. Returns the namespace they ran in.
    """
    nb = nbformat.read(str(ROOT / "solutions" / f"{stem}.ipynb"), as_version=4)
    namespace = {"__name__": f"chapter{stem[:2]}"}
    for index, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        tags = cell.metadata.get("tags", [])
        source = cell.source
        wanted = (
            index == 0
            or sync.GENERATED_TAG in tags
            or sync.CHECKS_TAG in tags
            or sync.EXPORT_START_RE.match(source.lstrip())
            or (sync.BEGIN_SOLUTION in source and "plt." not in source)
            or keep(source)
        )
        if wanted:
            exec(compile(source, f"{stem} code cell {index}", "exec"), namespace)
    return namespace


def hint_of(ns, check):
    """The Hint a wrong answer gets; fails on success or on any other exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ns["Hint"]) as caught:
            check()
    return str(caught.value)


def expect_hint(ns, check, *parts, forbidden=()):
    """The hint names each of ``parts`` and none of ``forbidden`` (pieces of the answer)."""
    message = hint_of(ns, check)
    for part in parts:
        assert part in message, f"{part!r} not in the hint {message!r}"
    for answer in forbidden:
        assert answer not in message, f"the hint gives the answer away: {message!r}"
    return message


def strict_failure(ns, exercise, check):
    """The message of a grading run (``self_check(..., strict=True)``), which must fail."""
    with pytest.raises(AssertionError) as caught:
        ns["self_check"](exercise, check, strict=True)
    return str(caught.value)


def strict_fails(ns, exercise, check, part):
    """As the hidden tests run it (``self_check``, strict=True): it fails, and the message names ``part``."""
    message = strict_failure(ns, exercise, check)
    assert part in message, message
    return message


@contextlib.contextmanager
def torch_default_dtype(name):
    """torch's default dtype set to ``name`` inside the block, and restored after it."""
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, name))
    try:
        yield
    finally:
        torch.set_default_dtype(before)
