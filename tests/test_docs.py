"""The set-up and contributor documents: they send readers only to what exists, and install what they name.

Also the set-up script's checks that fail before it installs anything (bad arguments, no suitable Python,
no working venv), run on copies so .venv is never touched.
"""

import os
import re
import subprocess
import sys
from importlib import metadata

import pytest
from conftest import ROOT

DOCS = ["README.md", "CONTRIBUTING.md", "book/setup.md"]
TOP_LEVEL = ("book/", "solutions/", "lessons/", "tools/", "tests/", ".ci/")
TOP_FILES = {
    "_config.yml",
    "_toc.yml",
    "references.bib",
    "requirements.txt",
    "README.md",
    "CONTRIBUTING.md",
}
REQUIREMENT_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements():
    text = (ROOT / "requirements.txt").read_text()
    return {normalized(m.group(1)) for m in REQUIREMENT_NAME.finditer(text)}


def commands_provided_by(distribution):
    """The commands an installed distribution puts into .venv/bin: entry points and shipped scripts."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return set()
    scripts = {ep.name for ep in dist.entry_points if ep.group == "console_scripts"}
    return scripts | {
        f.name for f in dist.files or [] if f.parent.name in ("bin", "Scripts")
    }


@pytest.mark.parametrize("doc", DOCS)
def test_documents_point_only_inside_the_repository(doc):
    text = (ROOT / doc).read_text()
    outside = re.findall(r"\.\./[\w.-]+|GUIDE\.md|shared folder", text)
    assert not outside, f"{doc} sends readers outside the repository: {outside}"
    for token in re.findall(r"`([^`\s]+)`", text):
        path = token.split(":")[0].rstrip(".,")
        if "NN_slug" in path or "*" in path:
            continue
        if path.startswith(TOP_LEVEL) or path in TOP_FILES:
            assert (ROOT / path).exists(), (
                f"{doc} names {path}, which is not in the repository"
            )


@pytest.mark.parametrize("doc", ["README.md", "book/setup.md", "CONTRIBUTING.md"])
def test_every_venv_command_the_documents_name_is_installed_by_requirements(doc):
    text = (ROOT / doc).read_text()
    wanted = requirements()
    for command, sub in re.findall(
        r"\.venv[/\\](?:bin|Scripts)[/\\]([\w.-]+)(?: (lab|notebook))?", text
    ):
        if command in ("python", "pip"):
            continue
        name = f"{command}-{sub}" if sub else command
        providers = {normalized(d) for d in wanted if name in commands_provided_by(d)}
        assert providers, (
            f"{doc} runs .venv/bin/{command} {sub}, which nothing in requirements.txt installs"
        )


def test_requirements_hold_the_tools_the_project_uses():
    wanted = requirements()
    for name in (
        "jupyterlab",
        "nbgrader",
        "jupytext",
        "pytest-xdist",
        "ruff",
        "jupyter-book",
        "pyyaml",
    ):
        assert name in wanted, f"requirements.txt lacks {name}"
    assert "nbval" not in wanted


def test_the_torch_index_the_documents_describe_is_the_one_the_script_reads():
    script = (ROOT / "tools/bootstrap.sh").read_text()
    assert "TORCH_INDEX_URL" in script
    for doc in ("README.md", "book/setup.md"):
        assert (
            "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu bash tools/bootstrap.sh"
            in (ROOT / doc).read_text()
        )


@pytest.fixture
def scratch(tmp_path):
    """A copy of the set-up script and requirements, so a failing run cannot touch the real .venv."""
    (tmp_path / "tools").mkdir()
    for name in ("tools/bootstrap.sh", "requirements.txt"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    return tmp_path


def bootstrap(folder, *args, python=None):
    env = dict(os.environ)
    if python:
        env["PYTHON"] = str(python)
    return subprocess.run(
        ["bash", str(folder / "tools/bootstrap.sh"), *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def fake_python(folder, body):
    path = folder / "fakepython"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_bootstrap_refuses_an_unknown_argument(scratch):
    result = bootstrap(scratch, "--brwoser")
    assert result.returncode == 2 and "unknown argument '--brwoser'" in result.stderr
    assert not (scratch / ".venv").exists()


def test_bootstrap_needs_python_3_11(scratch):
    result = bootstrap(scratch, python=scratch / "no-such-python")
    assert result.returncode == 3 and "not found" in result.stderr
    old = fake_python(scratch, 'case "$2" in *exit*) exit 1;; *) echo 3.9.2;; esac')
    result = bootstrap(scratch, python=old)
    assert (
        result.returncode == 3
        and "Python 3.11 or newer" in result.stderr
        and "3.9.2" in result.stderr
    )
    assert not (scratch / ".venv").exists()


def test_bootstrap_explains_a_missing_venv_module(scratch):
    # as on Debian without python3-venv: `-m venv` leaves a half-made .venv and fails
    python = fake_python(
        scratch,
        'if [ "$1" = "-m" ]; then mkdir -p .venv/bin; echo "ensurepip is not available" >&2; exit 1; fi\n'
        f'exec {sys.executable} "$@"',
    )
    result = bootstrap(scratch, python=python)
    assert result.returncode == 4 and "python3-venv" in result.stderr
    assert "ensurepip is not available" in result.stderr
    assert not (scratch / ".venv").exists(), (
        "the half-made .venv is removed, so a rerun starts clean"
    )
