"""The Live Dashboard draws today's numbers as the store has them."""

from __future__ import annotations

import numpy as np

from selflow_qt.core.format import clock_duration
from selflow_qt.store.queries import tray as q
from selflow_qt.ui.docks.dashboard import DashboardDock


def test_dashboard_shows_todays_numbers_from_the_store(qtbot, shell_state, artifacts_dir):
    dock = DashboardDock(shell_state)
    qtbot.addWidget(dock)
    dock.resize(900, 650)
    dock.show()
    with qtbot.waitSignal(dock.refreshed, timeout=15_000) as blocker:
        dock.refresh()
    data = blocker.args[0]
    db = shell_state.read_db()
    day = q.local_day()
    total = q.events_today(db, day)
    assert total > 0 and data.events_today == total
    # the stacked bars add up to every event of today, hour by hour
    stacked = sum(np.asarray(b.opts["height"], dtype=float) for b in dock.bars.values())
    by_hour = q.events_today_by_hour(db, day)
    assert stacked.sum() == total
    assert np.array_equal(stacked, np.sum([np.array(v) for v in by_hour.values()], axis=0))
    assert set(dock.bars) == set(by_hour)
    # the tops of the stack: each source's bars start where the previous source's end
    sources = list(by_hour)
    if len(sources) > 1:
        first, second = dock.bars[sources[0]], dock.bars[sources[1]]
        assert np.array_equal(second.opts["y0"], np.asarray(by_hour[sources[0]], dtype=float))
        assert np.all(first.opts["y0"] == 0)
    ops = q.file_ops_today(db, day)
    assert dock.ops_label.text().startswith(f"{sum(ops.values()):,}")
    assert dock.focus_label.text() == clock_duration(q.focus_time_today(db, day))
    assert dock.workflows.count() > 0
    dock.grab().save(str(artifacts_dir / "dashboard.png"))


def test_dashboard_updates_when_new_events_arrive(qtbot, shell_state):
    from selflow_qt.core.event import Event
    from selflow_qt.store.writer import insert_events

    dock = DashboardDock(shell_state)
    qtbot.addWidget(dock)
    with qtbot.waitSignal(dock.refreshed, timeout=15_000):
        dock.refresh()
    before = dock.data.events_today
    with shell_state.ctx.db.atomic():
        insert_events(shell_state.ctx.db, [Event.now("shell", "command", cmd="make test")] * 4)
    with qtbot.waitSignal(dock.refreshed, timeout=15_000):
        shell_state.refresh()  # dataChanged is what the app emits after imports and cycles
        dock.refresh()
    assert dock.data.events_today == before + 4
    assert dock.bars["shell"].opts["height"].sum() >= 4
