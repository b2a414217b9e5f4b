"""Shared fixtures: every test gets its own real data folder and SQLite file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Never let a test touch the user's real data folder or a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The app's test hooks live with the tests (tests/support), importable as top-level modules.
sys.path.insert(0, str(Path(__file__).parent / "support"))

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "selflow-data"
    d.mkdir(mode=0o700)
    monkeypatch.setenv("SELFLOW_DATA_DIR", str(d))
    return d


@pytest.fixture
def store(data_dir: Path):
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(data_dir)
    yield ctx
    ctx.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
