"""The Settings dialog edits and saves every setting; start at login writes a real login item."""

from __future__ import annotations

from selflow_qt.core.autostart import Autostart
from selflow_qt.core.settings import Settings
from selflow_qt.ui.settings_dialog import SettingsDialog


def test_dialog_shows_and_saves_the_settings(qtbot, shell_state, tmp_path):
    login = Autostart(platform="linux", home=tmp_path / "home")
    dlg = SettingsDialog(shell_state, autostart=login)
    qtbot.addWidget(dlg)
    assert dlg.budget.value() == 64
    assert dlg.policy.currentData() == shell_state.settings.bandit_policy
    changed: list = []
    shell_state.settingsChanged.connect(lambda: changed.append(1))

    dlg.budget.setValue(128)
    dlg.roots.clear()
    dlg.roots.addItems([str(tmp_path / "work"), str(tmp_path / "docs")])
    dlg.excludes.setPlainText("**/Private/**\n\n*.secret\n")
    dlg.policy.setCurrentIndex(dlg.policy.findData("thompson"))
    dlg.exploration.setValue(0.25)
    dlg.max_models.setValue(7)
    dlg.base_model.setText("/models/smollm")
    dlg.start_at_login.setChecked(True)
    dlg.accept()

    saved = Settings.load(shell_state.data_dir)
    assert saved.budget_bytes == 128 * 1024 * 1024
    assert saved.watch_roots == [str(tmp_path / "work"), str(tmp_path / "docs")]
    assert saved.exclude_globs == ["**/Private/**", "*.secret"]
    assert (saved.bandit_policy, saved.exploration_rate, saved.max_models) == ("thompson", 0.25, 7)
    assert saved.base_model == "/models/smollm" and saved.start_at_login is True
    assert shell_state.settings.budget_bytes == saved.budget_bytes
    assert changed
    entry = tmp_path / "home/.config/autostart/selflow.desktop"
    text = entry.read_text()
    assert "Exec=" in text and str(shell_state.data_dir) in text


def test_unchecking_start_at_login_removes_the_login_item(qtbot, shell_state, tmp_path):
    login = Autostart(platform="linux", home=tmp_path / "home")
    login.enable(["selflow"])
    dlg = SettingsDialog(shell_state, autostart=login)
    qtbot.addWidget(dlg)
    assert dlg.start_at_login.isChecked()
    dlg.start_at_login.setChecked(False)
    dlg.accept()
    assert not login.is_enabled()
    assert Settings.load(shell_state.data_dir).start_at_login is False


def test_cancel_changes_nothing(qtbot, shell_state, tmp_path):
    dlg = SettingsDialog(shell_state, autostart=Autostart(platform="linux", home=tmp_path))
    qtbot.addWidget(dlg)
    dlg.budget.setValue(1)
    dlg.reject()
    assert shell_state.settings.budget_bytes == 64 * 1024 * 1024
    assert not (shell_state.data_dir / "settings.json").exists()


def _ok_enabled(dlg) -> bool:
    from PySide6.QtWidgets import QDialogButtonBox

    return dlg.button_box.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_redaction_patterns_are_edited_and_saved(qtbot, shell_state, tmp_path):
    dlg = SettingsDialog(shell_state, autostart=Autostart(platform="linux", home=tmp_path))
    qtbot.addWidget(dlg)
    dlg.redactions.setPlainText("ticket-[0-9]+\n\nACME_[A-Z]+\n")
    assert dlg.error.text() == "" and _ok_enabled(dlg)
    dlg.accept()
    assert Settings.load(shell_state.data_dir).redact_patterns == ["ticket-[0-9]+", "ACME_[A-Z]+"]


def test_an_invalid_pattern_is_named_and_the_old_value_kept(qtbot, shell_state, tmp_path):
    """A regex that does not compile, or a glob that excludes everything: a message names it,
    OK is off, and the settings in use and on disk stay as they were."""
    before = Settings.load(shell_state.data_dir)
    dlg = SettingsDialog(shell_state, autostart=Autostart(platform="linux", home=tmp_path))
    qtbot.addWidget(dlg)
    dlg.redactions.setPlainText("token=[a-z")
    assert "token=[a-z" in dlg.error.text() and "regular expression" in dlg.error.text()
    assert not _ok_enabled(dlg)
    dlg.accept()  # e.g. Enter: refused as well
    assert shell_state.settings.redact_patterns == before.redact_patterns
    assert Settings.load(shell_state.data_dir).redact_patterns == before.redact_patterns
    dlg.redactions.setPlainText("token=[a-z]+")
    dlg.excludes.setPlainText("**")
    assert "'**'" in dlg.error.text() and "every file" in dlg.error.text()
    assert not _ok_enabled(dlg)
    dlg.excludes.setPlainText("**/Private/**")
    assert dlg.error.text() == "" and _ok_enabled(dlg)
    dlg.reject()


def test_numbers_are_held_to_the_ranges_settings_json_is_checked_against(
    qtbot, shell_state, tmp_path
):
    from selflow_qt.core.settings_checks import check

    dlg = SettingsDialog(shell_state, autostart=Autostart(platform="linux", home=tmp_path))
    qtbot.addWidget(dlg)
    assert check("exploration_rate", dlg.exploration.maximum()) == ""
    assert check("exploration_rate", dlg.exploration.minimum()) == ""
    assert check("max_models", dlg.max_models.minimum()) == ""
    assert check("budget_bytes", dlg.budget.minimum() * 1024 * 1024) == ""
    assert check("training_idle_minutes", dlg.idle_minutes.minimum()) == ""
    dlg.reject()
