"""settings.json values out of range, bad regexes and bad globs: named, defaults kept, no traceback."""

from __future__ import annotations

import json

import pytest

from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.core.settings import Settings


def _load(tmp_path, raw: dict) -> Settings:
    (tmp_path / "settings.json").write_text(json.dumps(raw), encoding="utf-8")
    return Settings.load(tmp_path)


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("budget_bytes", 0),
        ("budget_bytes", -5),
        ("app_poll_seconds", 0),
        ("trigger_fill_ratio", 1.5),
        ("trigger_min_sources", 0),
        ("cold_start_minutes", -1.0),
        ("incremental_every_s", 0),
        ("analysis_min_support", 9),
        ("analysis_umap", "sometimes"),
        ("max_models", 0),
        ("bandit_policy", "greedy"),
        ("exploration_rate", 1.2),
        ("prediction_horizon_s", -300),
        ("lora_r", 0),
        ("lora_dropout", 1.0),
    ],
)
def test_a_value_out_of_range_keeps_the_default_and_names_the_key(tmp_path, key, bad):
    s = _load(tmp_path, {key: bad, "max_models": 3} if key != "max_models" else {key: bad})
    default = getattr(Settings(), key)
    assert getattr(s, key) == default
    assert len(s.warnings) == 1
    w = s.warnings[0]
    assert f": {key} " in w and repr(bad) in w and f"using the default {default!r}" in w
    if key != "max_models":
        assert s.max_models == 3  # the good keys beside it are kept


def test_an_invalid_redaction_regex_is_named_and_kept_so_nothing_it_hides_is_written(tmp_path):
    """Dropping it would write what the user asked to hide: it stays, the warning names it, and
    the filter refuses to be built (import and collection stop with that one line)."""
    s = _load(tmp_path, {"redact_patterns": ["token-[0-9]+", "([unclosed", ""]})
    assert s.redact_patterns == ["token-[0-9]+", "([unclosed", ""]
    assert len(s.warnings) == 2
    assert all(": redact_patterns: " in w for w in s.warnings)
    assert "'([unclosed' is not a valid regular expression" in s.warnings[0]
    assert "nothing is written until it is fixed" in s.warnings[0]
    with pytest.raises(ValueError, match="redaction pattern"):
        PrivacyFilter.from_settings(s)


def test_globs_that_are_empty_or_exclude_everything_are_left_out(tmp_path):
    s = _load(tmp_path, {"exclude_globs": ["*.secret", "", "**", "/*"], "watch_roots": [" "]})
    assert s.exclude_globs == ["*.secret"]
    assert s.watch_roots == []
    assert sum(": exclude_globs: " in w for w in s.warnings) == 3
    assert any(": watch_roots: ' ' is empty" in w for w in s.warnings)


def test_good_values_load_without_warnings(tmp_path):
    raw = {
        "budget_bytes": 1 << 20,
        "exploration_rate": 0.0,
        "analysis_umap": "cluster",
        "redact_patterns": [r"(?i)password=\S+"],
        "exclude_globs": ["~/private/", "*.kdbx"],
        "trigger_min_silhouette": -0.2,
    }
    s = _load(tmp_path, raw)
    assert s.warnings == ()
    assert (s.budget_bytes, s.analysis_umap, s.exploration_rate) == (1 << 20, "cluster", 0.0)
