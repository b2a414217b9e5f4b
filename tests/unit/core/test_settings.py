"""Settings loading: a broken or wrongly typed settings.json gives defaults and a warning."""

from __future__ import annotations

import json

from selflow_qt.cli import main
from selflow_qt.core.settings import DEFAULT_BUDGET_BYTES, Settings


def test_unreadable_file_gives_defaults_and_keeps_a_copy(tmp_path):
    (tmp_path / "settings.json").write_text("{not json", encoding="utf-8")
    s = Settings.load(tmp_path)
    assert s.budget_bytes == DEFAULT_BUDGET_BYTES
    assert len(s.warnings) == 1 and "cannot be read" in s.warnings[0]
    assert (tmp_path / "settings.json.broken").read_text(encoding="utf-8") == "{not json"


def test_not_an_object_gives_defaults(tmp_path):
    (tmp_path / "settings.json").write_text("[1, 2]", encoding="utf-8")
    s = Settings.load(tmp_path)
    assert s == Settings() and "not a JSON object" in s.warnings[0]


def test_wrong_types_fall_back_per_key_and_keep_the_rest(tmp_path):
    raw = {
        "budget_bytes": "big",
        "collect_fs": 1,
        "watch_roots": "~",
        "app_poll_seconds": 3,
        "max_models": 4.0,
        "exploration_rate": 0.2,
        "training_policy": "sometimes",
        "mystery": [1],
    }
    (tmp_path / "settings.json").write_text(json.dumps(raw), encoding="utf-8")
    s = Settings.load(tmp_path)
    d = Settings()
    assert (s.budget_bytes, s.collect_fs, s.watch_roots) == (
        d.budget_bytes,
        d.collect_fs,
        d.watch_roots,
    )
    assert s.training_policy == d.training_policy
    assert (s.app_poll_seconds, s.max_models, s.exploration_rate) == (3.0, 4, 0.2)
    assert s.unknown_keys == {"mystery": [1]}
    bad = {w.split(": ")[1].split(" ")[0] for w in s.warnings}
    assert bad == {"budget_bytes", "collect_fs", "watch_roots", "training_policy"}


def test_a_good_file_round_trips_without_warnings(tmp_path):
    s = Settings(budget_bytes=1234, training_policy="ask")
    s.save(tmp_path)
    loaded = Settings.load(tmp_path)
    assert loaded == s and loaded.warnings == ()
    assert "warnings" not in json.loads((tmp_path / "settings.json").read_text())


def test_an_older_versions_file_reads_into_the_typed_fields_and_keeps_unknown_keys(tmp_path):
    """Older versions kept these knobs in an ``extra`` object; a key this version does not know
    (a newer version's) is written back as it was, beside the settings."""
    raw = {
        "max_models": 3,
        "newer_setting": {"a": 1},
        "extra": {
            "welcome_done": True,
            "train_config": {"max_steps": 4, "batch_size": 4},
            "eval_positions": 8,
            "lm_positions": 4,
            "auto_train": False,
            "mystery": [1],
        },
    }
    (tmp_path / "settings.json").write_text(json.dumps(raw), encoding="utf-8")
    s = Settings.load(tmp_path)
    assert s.warnings == ()
    assert (s.welcome_done, s.eval_positions, s.lm_positions) == (True, 8, 4)
    assert s.train_config == {"max_steps": 4, "batch_size": 4}
    assert s.training_policy == "ask"  # auto_train: false meant "ask"
    assert s.unknown_keys == {"newer_setting": {"a": 1}, "mystery": [1]}
    s.save(tmp_path)
    written = json.loads((tmp_path / "settings.json").read_text())
    assert written["newer_setting"] == {"a": 1} and written["mystery"] == [1]
    assert written["welcome_done"] is True and written["max_models"] == 3
    assert "extra" not in written and "unknown_keys" not in written
    assert Settings.load(tmp_path) == s


def test_wrong_typed_short_run_knobs_fall_back_with_a_warning(tmp_path):
    raw = {"lm_positions": "many", "eval_positions": 0, "train_config": [1], "welcome_done": 1}
    (tmp_path / "settings.json").write_text(json.dumps(raw), encoding="utf-8")
    s = Settings.load(tmp_path)
    d = Settings()
    assert (s.lm_positions, s.eval_positions, s.train_config, s.welcome_done) == (
        d.lm_positions,
        d.eval_positions,
        d.train_config,
        d.welcome_done,
    )
    bad = {w.split(": ")[1].split(" ")[0] for w in s.warnings}
    assert bad == {"lm_positions", "eval_positions", "train_config", "welcome_done"}


def test_the_cli_runs_with_a_broken_settings_file(tmp_path, capsys):
    from selflow_qt.store.context import StoreContext

    StoreContext.open(tmp_path).close()  # status reads a database; it creates none
    (tmp_path / "settings.json").write_text('{"budget_bytes": ', encoding="utf-8")
    assert main(["--data-dir", str(tmp_path), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
