"""First start: the welcome window and what it imports; the training policy; demo folders."""

from __future__ import annotations

from selflow_qt.core.settings import Settings
from selflow_qt.workers import jobs


def _home_with_history(tmp_path, monkeypatch, n: int = 40):
    home = tmp_path / "home"
    home.mkdir()
    lines = []
    for i in range(n):
        lines += [f"#{1_700_000_000 + 30 * i}", ["git status", "make", "pytest -q"][i % 3]]
    (home / ".bash_history").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HISTFILE", raising=False)
    return home


def test_first_start_offers_the_history_and_never_comes_back(
    qtbot, data_dir, tmp_path, monkeypatch
):
    from selflow_qt.ui.state import AppState
    from selflow_qt.ui.welcome import WelcomeDialog, mark_welcome_done

    home = _home_with_history(tmp_path, monkeypatch)
    state = AppState(data_dir, start_services=False)
    try:
        info = jobs.first_run_job(state.job_context(), probe_aw=False)
        assert info.needed and info.histories == [(str(home / ".bash_history"), 40)]
        dialog = WelcomeDialog(state, info)
        qtbot.addWidget(dialog)
        text = " ".join(w.text() for w in dialog.findChildren(type(dialog.import_button)))
        assert "Import and analyse" in text and dialog.import_button.isEnabled()
        assert dialog.chosen() == [str(home / ".bash_history")]
        with qtbot.waitSignal(dialog.importChosen, timeout=2000) as blocker:
            dialog.import_button.click()
        assert blocker.args[0] == [str(home / ".bash_history")]
        mark_welcome_done(state)
        assert Settings.load(data_dir).welcome_done is True
        assert not jobs.first_run_job(state.job_context(), probe_aw=False).needed
    finally:
        state.shutdown(10_000)
        state.ctx.close()


def test_nothing_to_import_disables_the_import_button(qtbot, data_dir, tmp_path, monkeypatch):
    from selflow_qt.ui.state import AppState
    from selflow_qt.ui.welcome import WelcomeDialog

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("HISTFILE", raising=False)
    state = AppState(data_dir, start_services=False)
    try:
        info = jobs.first_run_job(state.job_context(), probe_aw=False)
        dialog = WelcomeDialog(state, info)
        qtbot.addWidget(dialog)
        assert info.needed and not info.histories and not dialog.import_button.isEnabled()
    finally:
        state.shutdown(10_000)
        state.ctx.close()


def test_a_dropped_picture_is_not_a_watched_folder(qtbot, shell_state, tmp_path):
    picture = tmp_path / "picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with qtbot.waitSignal(shell_state.importFinished, timeout=20_000) as blocker:
        shell_state.import_paths([str(picture)])
    report = blocker.args[0]
    assert report.watched == [] and "not an importable file" in report.errors[str(picture)]
    assert str(tmp_path) not in Settings.load(shell_state.data_dir).watch_roots


def test_policy_ask_leaves_the_queue_to_the_user(qtbot, shell_state):
    shell_state.settings.training_policy = "ask"
    shell_state.services_started = True  # the queue runner runs only with services
    try:
        shell_state.run_training_queue()
        assert not shell_state.training_running and "ask" in shell_state.training_gate.reason
    finally:
        shell_state.services_started = False


def test_a_demo_folder_gets_no_live_capture(qtbot, data_dir):
    from selflow_qt.demo.folder import mark_demo
    from selflow_qt.ui.state import DEMO_FOLDER_MESSAGE, AppState

    mark_demo(data_dir)
    state = AppState(data_dir, start_services=False)
    try:
        with qtbot.waitSignal(state.message, timeout=5000) as blocker:
            state.start_services()
        assert blocker.args[0] == DEMO_FOLDER_MESSAGE
        assert state._collector is None and not state.live_capture
    finally:
        state.shutdown(10_000)
        state.ctx.close()


def test_the_training_policy_is_set_in_settings(qtbot, shell_state):
    from selflow_qt.ui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(shell_state)
    qtbot.addWidget(dlg)
    assert dlg.training.currentData() == "when_idle"
    dlg.training.setCurrentIndex(dlg.training.findData("ask"))
    dlg.accept()
    assert Settings.load(shell_state.data_dir).training_policy == "ask"
    assert shell_state.settings.training_policy == "ask"


def test_the_welcome_offers_the_shell_hook_and_adds_it_only_on_a_click(
    qtbot, data_dir, tmp_path, monkeypatch, artifacts_dir
):
    """$SHELL zsh: the one line for ~/.zshrc, Copy puts it on the clipboard, "Add it for me"
    appends it once (a second click changes nothing); nothing is written before the click."""
    from PySide6.QtWidgets import QApplication

    from selflow_qt.collect import shell_rc
    from selflow_qt.ui.state import AppState
    from selflow_qt.ui.welcome import WelcomeDialog

    home = _home_with_history(tmp_path, monkeypatch)
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    monkeypatch.delenv("ZDOTDIR", raising=False)
    state = AppState(data_dir, start_services=False)
    try:
        info = jobs.first_run_job(state.job_context(), probe_aw=False)
        dialog = WelcomeDialog(state, info)
        qtbot.addWidget(dialog)
        dialog.show()
        line = dialog.hook_line.text()
        assert line == shell_rc.rc_line("zsh", shell_rc.selflow_command(state.data_dir))
        assert line.startswith('eval "$(') and line.endswith('shell-init zsh)"')
        assert not (home / ".zshrc").exists()
        dialog.copy_button.click()
        assert QApplication.clipboard().text() == line
        dialog.add_button.click()
        assert (home / ".zshrc").read_text().count(line) == 1
        assert "Added to" in dialog.hook_status.text()
        dialog._add_hook()  # a second try (the button is off by now) adds nothing
        assert (home / ".zshrc").read_text().count(line) == 1
        assert "Already in" in dialog.hook_status.text()
        dialog.grab().save(str(artifacts_dir / "welcome.png"))
        dialog.close()
    finally:
        state.shutdown(10_000)
        state.ctx.close()


def test_a_large_training_waits_in_a_demo_folder_and_says_why_it_started(
    qtbot, shell_state, monkeypatch
):
    """Issue 24: a 3 GB training started unasked after a demo folder was opened (no live
    capture counted as idle). Now it waits for real input idle time, and says why it started.
    The platform's idle time and power are stood in for; the training start is recorded."""
    from selflow_qt.collect import user_idle

    started: list[str] = []
    monkeypatch.setattr(shell_state, "start_training", lambda **kw: started.append(kw["reason"]))
    shell_state.settings.training_policy = "when_idle"
    shell_state.live_capture = False
    shell_state.services_started = True
    try:
        monkeypatch.setattr(user_idle, "input_idle_seconds", lambda: None)
        shell_state.run_training_queue()
        assert not started and "Train now" in shell_state.training_gate.reason
        monkeypatch.setattr(user_idle, "input_idle_seconds", lambda: 30 * 60.0)
        monkeypatch.setattr(user_idle, "on_mains_power", lambda: False)
        shell_state.run_training_queue()
        assert not started and "battery" in shell_state.training_gate.reason
        monkeypatch.setattr(user_idle, "on_mains_power", lambda: True)
        shell_state.run_training_queue()
        assert started == [shell_state.training_gate.reason]
        assert started[0].startswith("started by itself: keyboard and mouse idle for 30 min")
    finally:
        shell_state.services_started = False


def test_return_on_the_welcome_imports_wherever_the_focus_is(
    qtbot, data_dir, tmp_path, monkeypatch
):
    """The keyboard answers the welcome: Return is "Import and analyse" even with the focus on
    the shell hook's Copy button (a QPushButton there became the default and took Return)."""
    from PySide6.QtCore import Qt

    from selflow_qt.ui.state import AppState
    from selflow_qt.ui.welcome import WelcomeDialog

    _home_with_history(tmp_path, monkeypatch)
    monkeypatch.setenv("SHELL", "/bin/bash")
    state = AppState(data_dir, start_services=False)
    try:
        info = jobs.first_run_job(state.job_context(), probe_aw=False)
        dialog = WelcomeDialog(state, info)
        qtbot.addWidget(dialog)
        chosen = []
        dialog.importChosen.connect(chosen.append)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.copy_button.setFocus()
        qtbot.keyClick(dialog.copy_button, Qt.Key.Key_Return)
        assert chosen and dialog.result() == dialog.DialogCode.Accepted
    finally:
        state.shutdown(10_000)
        state.ctx.close()
