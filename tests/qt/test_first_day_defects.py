"""First-day defects: Up next on a missing file or a 'close' guess; one Settings dialog at a time."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtWidgets import QDialog

from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.resources import app_icon
from selflow_qt.ui.tray.icon import TrayController


def _controller(qtbot, state):
    window = MainWindow(state)
    qtbot.addWidget(window)
    ctl = TrayController(state, window, app_icon(), show_icon=False)
    return ctl, window


def _suggestion(**kw):
    base = dict(kind="file", text="", path=None, cmd=None, app=None, score=1.0,
                predictor="markov-1", interaction_id=7, key="")  # fmt: skip
    return SimpleNamespace(**{**base, **kw})


def test_choosing_a_missing_file_is_not_opened_nor_recorded(qtbot, shell_state, tmp_path):
    ctl, _ = _controller(qtbot, shell_state)
    recorded: list = []
    shell_state.record_choice = recorded.append
    gone = tmp_path / "gone.md"
    done = ctl.choose(_suggestion(path=str(gone), text="gone.md", key=f"fs modify {gone}"))
    assert done == f"{gone} no longer exists" and recorded == []
    ctl.timer.stop()


def test_a_close_guess_never_launches_the_program(qtbot, shell_state, monkeypatch):
    from PySide6.QtCore import QProcess

    ctl, _ = _controller(qtbot, shell_state)
    started: list = []
    monkeypatch.setattr(QProcess, "startDetached", lambda *a: started.append(a) or True)
    done = ctl.choose(_suggestion(kind="app", app="find", text="close find", key="app close find"))
    assert started == [] and "nothing to start" in done
    ctl.timer.stop()


def test_only_one_settings_dialog_is_open(qtbot, shell_state):
    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    window.open_settings()
    window.open_settings()
    open_dialogs = [d for d in window.findChildren(QDialog) if d.isVisible()]
    assert len(open_dialogs) == 1
    open_dialogs[0].reject()


def test_the_agents_dock_shows_each_agents_margin_over_the_best_baseline():
    from selflow_qt.agents.serving.leaderboard import AgentRow
    from selflow_qt.ui.docks.agents import agent_margins

    def row(arm, kind, hit1):
        return AgentRow(arm, kind, "", 0.0, 0.0, 0.0, 0.0, 0, 0, hit1=hit1)

    rows = [row("agent-1", "agent", 0.62), row("markov-1", "baseline", 0.55),
            row("most-recent", "baseline", 0.41), row("agent-2", "agent", None)]  # fmt: skip
    margins = agent_margins(rows)
    assert round(margins["agent-1"], 2) == 0.07 and margins["agent-2"] is None
    assert "markov-1" not in margins


def test_train_next_queued_is_enabled_only_with_a_queue(qtbot, docks_state):
    from selflow_qt.store.models import TrainingSession
    from selflow_qt.ui.docks.agents import AgentsDock

    dock = AgentsDock(docks_state)
    qtbot.addWidget(dock)
    qtbot.waitUntil(lambda: bool(dock.rows), timeout=20_000)
    assert not dock.train_button.isEnabled()  # the queue is empty
    TrainingSession.create(model_id="agent-p1", status="queued", metadata={"pattern_id": 1})
    loaded = len(dock.rows)
    dock.rows = []
    dock.refresh()
    qtbot.waitUntil(lambda: len(dock.rows) == loaded, timeout=20_000)
    assert dock.train_button.isEnabled()


def test_the_dashboard_axis_counts_whole_events(qtbot, shell_state):
    from selflow_qt.ui.docks.dashboard import DashboardDock, whole_ticks

    assert whole_ticks(3.3) == [0, 1, 2, 3] and whole_ticks(110) == [0, 20, 40, 60, 80, 100]
    dock = DashboardDock(shell_state)
    qtbot.addWidget(dock)
    axis = dock.plot.getAxis("left")
    qtbot.waitUntil(lambda: axis._tickLevels is not None, timeout=20_000)
    labels = [text for _v, text in axis._tickLevels[0]]
    assert labels and all("." not in t for t in labels)


def test_the_bandit_text_follows_the_agents_dock(qtbot, docks_state, monkeypatch):
    """A scored outcome moves the bandit: the Training Center's bandit text and the Agents dock
    both re-read on the same signal, so neither lags the other."""
    from selflow_qt.agents.ranking.predictors import BASELINE_IDS
    from selflow_qt.store.models import BanditArm
    from selflow_qt.ui.docks.agents import AgentsDock
    from selflow_qt.ui.docks.training_center import TrainingCenterDock

    center, agents = TrainingCenterDock(docks_state), AgentsDock(docks_state)
    for w in (center, agents):
        qtbot.addWidget(w)
    qtbot.waitUntil(lambda: center.data is not None and bool(agents.rows), timeout=20_000)
    arm = BASELINE_IDS[-1]
    assert arm not in center.performance.bandit_label.text()

    def scored(k: int = 5, force: bool = False):  # the worker resolved 50 outcomes of ``arm``
        job.last_resolved = 50
        return None

    job = docks_state._suggestions_job
    monkeypatch.setattr(job, "refresh", scored)
    BanditArm.update(successes=BanditArm.successes + 50, attempts=BanditArm.attempts + 50).where(
        BanditArm.arm_id == arm
    ).execute()
    docks_state.refresh_suggestions()
    qtbot.waitUntil(lambda: f"best now: {arm}" in agents.summary.text(), timeout=10_000)
    qtbot.waitUntil(lambda: arm in center.performance.bandit_label.text(), timeout=10_000)
    shown = {r.arm_id: r.queries for r in center.data.ranking}
    assert shown == {r.arm_id: r.queries for r in agents.rows}


def test_day_one_trends_read_new_this_week_not_rising(qtbot, tmp_path):
    """Six hours of activity on a first day: the trends table says "new this week" for what
    was done, not "rising, p<0.001" against an empty week before."""
    import time

    from selflow_qt.core.event import Event
    from selflow_qt.store.writer import insert_events
    from selflow_qt.ui.docks.insights import InsightsDock
    from selflow_qt.ui.state import AppState

    state = AppState(tmp_path / "data", start_services=False)
    now = time.time()
    events = [Event(ts=now - 60 * i, source="app", action="focus", app="code") for i in range(300)]
    events += [
        Event(ts=now - 70 * i, source="shell", action="command", cmd="make") for i in range(60)
    ]
    with state.ctx.db.atomic():
        insert_events(state.ctx.db, events)
    dock = InsightsDock(state)
    qtbot.addWidget(dock)
    qtbot.waitUntil(lambda: dock.report is not None, timeout=60_000)
    column = [dock.trends_table.item(r, 0).text() for r in range(dock.trends_table.rowCount())]
    assert column and set(column) == {"● new this week"}
    p_values = {dock.trends_table.item(r, 6).text() for r in range(dock.trends_table.rowCount())}
    assert p_values == {"—"}
    state.shutdown(10_000)
    state.ctx.close()
