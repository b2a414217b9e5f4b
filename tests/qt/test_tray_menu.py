"""The tray menu: every number read from the store, updated in place, choices act and record."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from PySide6.QtGui import QGuiApplication

from selflow_qt.core.event import Event
from selflow_qt.store.models import MicroAgent, Notification, TrainingSession
from selflow_qt.store.writer import insert_events
from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.resources import app_icon
from selflow_qt.ui.tray.icon import TrayController


def _today_from_sqlite(db) -> tuple[int, int]:
    """(events today, file operations today) computed row by row, independently of queries.py."""
    today = datetime.now().astimezone().date()
    events = fs = 0
    for ts, tz, source in db.execute_sql("SELECT ts, tz_offset, source FROM events"):
        local = datetime.fromtimestamp(ts + tz * 60, tz=timezone.utc).date()
        if local == today:
            events += 1
            fs += source == "fs"
    return events, fs


@pytest.fixture
def tray(qtbot, shell_state):
    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    ctl = TrayController(shell_state, window, app_icon(), show_icon=False)
    with qtbot.waitSignal(ctl.refreshed, timeout=15_000):
        pass
    yield ctl
    ctl.timer.stop()


def _refresh(qtbot, ctl: TrayController) -> None:
    with qtbot.waitSignal(ctl.refreshed, timeout=15_000):
        ctl.refresh()


def test_menu_values_match_the_store(qtbot, tray, shell_state):
    db = shell_state.read_db()
    events, fs = _today_from_sqlite(db)
    assert events > 0
    actions = tray.menu.actions
    assert actions["dashboard"].text() == f"Live Dashboard ({events:,} events today)"
    assert actions["file-ops"].text() == f"File Operations: {fs:,} today"
    fill = db.execute_sql("SELECT json_extract(value, '$.bytes') FROM kv_state WHERE key='buffer'")
    pct = 100 * fill.fetchone()[0] / shell_state.settings.budget_bytes
    assert actions["data"].text() == f"Data: {pct:.1f}% full"
    assert actions["focus"].toolTip().startswith("Focus Time:")
    assert "Workflow Efficiency" in actions["efficiency"].toolTip()


def test_agents_training_and_notifications_are_counted(qtbot, tray):
    MicroAgent.create(
        model_id="agent-p1-aa", specialization="coding", success_rate=0.5, total_queries=10
    )
    MicroAgent.create(
        model_id="agent-p2-bb", specialization="writing", success_rate=0.8, total_queries=5
    )
    MicroAgent.create(model_id="agent-p5-ee", specialization="design", success_rate=0.0)
    TrainingSession.create(model_id="agent-p3-cc", status="training")
    TrainingSession.create(model_id="agent-p4-dd", status="queued")
    Notification.create(kind="pattern", title="New pattern", body="coding")
    _refresh(qtbot, tray)
    a = tray.menu.actions
    assert a["agents"].text() == "Micro-Agents (3 active, 1 training)"
    rows = [x for x in tray.menu.menus["agents"].actions() if x.isVisible()]
    assert rows[0].text() == "writing — 80% success (5 queries)"
    assert rows[1].text() == "coding — 50% success (10 queries)"
    assert rows[2].text() == "design — no queries yet"
    assert all(not r.icon().isNull() for r in rows[:2])  # gold and silver discs
    assert rows[2].icon().isNull()  # no queries yet: no medal
    assert a["queue"].text() == "Training Queue (1 queued)"
    assert a["notifications"].text() == "Notifications (1 new)"


def test_refresh_updates_the_same_actions_in_place(qtbot, tray, shell_state):
    before = {k: id(v) for k, v in tray.menu.actions.items()}
    old = tray.menu.actions["dashboard"].text()
    now = datetime.now().timestamp()
    with shell_state.ctx.db.atomic():
        insert_events(shell_state.ctx.db, [Event.now("fs", "create", path="/tmp/x")] * 3)
    _refresh(qtbot, tray)
    assert {k: id(v) for k, v in tray.menu.actions.items()} == before
    assert tray.menu.actions["dashboard"].text() != old
    events, _ = _today_from_sqlite(shell_state.read_db())
    assert f"({events:,} events today)" in tray.menu.actions["dashboard"].text()
    assert now > 0


def test_choosing_a_command_copies_it_and_records_the_choice(qtbot, tray, shell_state, monkeypatch):
    recorded: list = []
    monkeypatch.setattr(shell_state, "record_choice", recorded.append)
    s = SimpleNamespace(
        kind="command",
        text="pytest -x",
        cmd="pytest -x",
        path=None,
        app=None,
        score=0.42,
        predictor="markov",
        interaction_id=17,
    )
    shell_state.suggestionsChanged.emit([s])
    rows = [a for a in tray.menu.menus["up-next"].actions() if a.isVisible() and a.isEnabled()]
    assert rows[0].text() == "$ pytest -x  (by markov)"
    rows[0].trigger()
    assert QGuiApplication.clipboard().text() == "pytest -x"
    assert recorded == [17]


def test_new_notifications_become_tray_messages(qtbot, tray, monkeypatch):
    shown: list = []
    monkeypatch.setattr(tray, "show_message", lambda t, b: shown.append((t, b)))
    Notification.create(kind="training", title="Training finished", body="agent-p1: loss 0.8")
    _refresh(qtbot, tray)
    assert shown == [("Training finished", "agent-p1: loss 0.8")]
    _refresh(qtbot, tray)
    assert len(shown) == 1  # told once


def test_menu_items_open_their_docks(qtbot, tray):
    tray.menu.actions["dashboard"].trigger()
    win = tray.window
    assert win.isVisible()
    assert win.docks["dashboard"].isVisible()


def test_the_menu_renders(qtbot, tray, artifacts_dir):
    from app_hooks import grab_menu

    pm = grab_menu(tray, "today")
    assert pm.width() > 200 and pm.height() > 200
    assert pm.save(str(artifacts_dir / "tray-menu-offscreen.png"))
