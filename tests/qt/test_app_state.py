"""AppState: imports by content (what a drop does), watched roots, settings, missing features."""

from __future__ import annotations

import json
import time

from selflow_qt.core.settings import Settings
from selflow_qt.workers.importing import sniff_kind


def _count(state) -> int:
    return state.read_db().execute_sql("SELECT count(*) FROM events").fetchone()[0]


def _jsonl(path, n: int, bad_line: int | None = None) -> None:
    t = time.time() - 3600
    lines = []
    for i in range(n):
        rec = {"ts": t + i, "source": "shell", "action": "command", "cmd": f"echo {i}"}
        lines.append("{not json" if bad_line == i + 1 else json.dumps(rec))
    path.write_text("\n".join(lines) + "\n")


def test_dropping_a_jsonl_file_imports_it_with_progress(qtbot, shell_state, tmp_path):
    f = tmp_path / "events.jsonl"
    _jsonl(f, 25)
    before = _count(shell_state)
    progress: list = []
    shell_state.importProgress.connect(lambda p, d, t: progress.append((p, d, t)))
    with qtbot.waitSignal(shell_state.importFinished, timeout=20_000) as blocker:
        shell_state.import_paths([str(f)])
    report = blocker.args[0]
    assert report.imported == {str(f): 25} and not report.errors
    assert _count(shell_state) == before + 25
    assert progress and progress[-1] == (str(f), 25, 25)


def test_a_bad_line_names_file_and_line_and_imports_nothing(qtbot, shell_state, tmp_path):
    f = tmp_path / "broken.jsonl"
    _jsonl(f, 10, bad_line=7)
    before = _count(shell_state)
    messages: list = []
    shell_state.message.connect(messages.append)
    with qtbot.waitSignal(shell_state.importFinished, timeout=20_000) as blocker:
        shell_state.import_paths([str(f)])
    report = blocker.args[0]
    assert f"{f}:7" in report.errors[str(f)]
    assert _count(shell_state) == before
    assert any("broken.jsonl failed" in m for m in messages)


def test_dropping_a_folder_adds_a_watched_root(qtbot, shell_state, tmp_path):
    folder = tmp_path / "projects"
    folder.mkdir()
    with qtbot.waitSignal(shell_state.importFinished, timeout=20_000) as blocker:
        shell_state.import_paths([str(folder)])
    assert blocker.args[0].watched == [str(folder)]
    assert str(folder.resolve()) in Settings.load(shell_state.data_dir).watch_roots


def test_sniffing_tells_the_kinds_apart(tmp_path):
    j = tmp_path / "a.txt"
    _jsonl(j, 2)
    aw = tmp_path / "aw.json"
    aw.write_text(json.dumps({"buckets": {}}))
    zsh = tmp_path / "something"
    zsh.write_text(": 1700000000:0;ls -la\n: 1700000005:2;make\n")
    bash = tmp_path / ".bash_history"
    bash.write_text("ls\ncd /tmp\n")
    other = tmp_path / "photo.png"
    other.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert sniff_kind(j) == "jsonl"
    assert sniff_kind(aw) == "activitywatch"
    assert sniff_kind(zsh) == "shell"
    assert sniff_kind(bash) == "shell"
    assert sniff_kind(other) is None
    assert sniff_kind(tmp_path) is None


def test_save_settings_persists_and_signals(qtbot, shell_state):
    s = Settings.load(shell_state.data_dir)
    s.max_models = 9
    with qtbot.waitSignal(shell_state.settingsChanged, timeout=2000):
        shell_state.save_settings(s)
    assert Settings.load(shell_state.data_dir).max_models == 9
    assert shell_state.settings.max_models == 9


def test_training_failure_is_recorded_as_a_notification(qtbot, shell_state):
    from types import SimpleNamespace

    from selflow_qt.store.models import Notification

    outcome = SimpleNamespace(
        session_id=41, status="failed", model_id="agent-p1-x", final_loss=None, error="OOM"
    )
    with qtbot.waitSignal(shell_state.notificationsChanged, timeout=2000):
        shell_state._note_training(outcome)
    n = Notification.select().order_by(Notification.id.desc()).first()
    assert n.title == "Training failed" and "OOM" in n.body and n.data["session_id"] == 41
    shell_state._note_training(outcome)  # told once per session
    assert Notification.select().where(Notification.kind == "training").count() == 1


def test_up_next_is_refreshed_only_when_events_arrive(shell_state):
    from selflow_qt.core.event import Event
    from selflow_qt.store.writer import insert_events
    from selflow_qt.workers.jobs import SuggestionsJob

    job = SuggestionsJob(shell_state.data_dir)
    first = job.refresh()
    assert isinstance(first, list) and first, "the demo history gives the baselines guesses"
    assert {s.kind for s in first} <= {"file", "command", "app"}
    assert job.refresh() is None  # nothing happened: nothing new is logged
    with shell_state.ctx.db.atomic():
        insert_events(shell_state.ctx.db, [Event.now("shell", "command", cmd="git status")])
    assert isinstance(job.refresh(), list)
    assert isinstance(job.refresh(force=True), list)
