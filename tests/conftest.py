"""Shared by every test: the repository root on sys.path, and torch's global state kept per test."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_finish(session):
    """A test module that changes torch's default dtype when imported changes it for every test
    that runs after it in the same worker: set it in a fixture instead."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_default_dtype() != torch.float32:
        raise pytest.UsageError(
            f"torch's default dtype is {torch.get_default_dtype()} after collection: a test module "
            "set it at import time; use exercise_support.torch_default_dtype in a fixture"
        )


@pytest.fixture(autouse=True)
def _restore_torch_default_dtype():
    """Whatever a test does to torch's default dtype is undone after it."""
    torch = sys.modules.get("torch")
    before = torch.get_default_dtype() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_default_dtype(before or torch.float32)
