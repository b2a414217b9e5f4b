"""A first analysis from few workflow units, and a trigger that agrees with the cycle."""

from __future__ import annotations

from datetime import datetime

import pytest

from selflow_qt.analyze.cycle import run_cycle
from selflow_qt.analyze.few_units import METHOD, MIN_UNITS
from selflow_qt.analyze.trigger import evaluate_trigger
from selflow_qt.core.event import Event
from selflow_qt.store.models import AnalysisRun, Pattern
from selflow_qt.store.writer import insert_events

START = datetime(2026, 11, 16, 9).timestamp()
ADMIN = [
    "systemctl status nginx",
    "journalctl -u nginx --since today",
    "sudo apt update",
    "df -h",
    "free -m",
    "ssh web01",
    "sudo systemctl restart nginx",
    "top",
]


def _admin(n: int, start: float, every_s: float = 40.0) -> list[Event]:
    """``n`` events of one kind of work (system administration): commands and config edits."""
    out = []
    for i in range(n):
        t = start + i * every_s
        if i % 5 == 4:
            out.append(Event(ts=t, source="fs", action="modify", path="/etc/nginx/nginx.conf"))
        else:
            out.append(
                Event(ts=t, source="shell", action="command", cmd=ADMIN[i % 8], cwd="/home/u")
            )
    return out


def _open(tmp_path):
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path)
    ctx.settings.analysis_umap = "off"
    return ctx


def test_a_first_hour_of_one_kind_of_work_is_named(tmp_path):
    """An hour of admin work in two sittings is two workflow units: too few for the clusterers,
    but the first analysis names the one thing the user did instead of refusing."""
    ctx = _open(tmp_path)
    events = _admin(40, START) + _admin(40, START + 40 * 40 + 1200)  # a 20-minute pause
    with ctx.db.atomic():
        insert_events(ctx.db, events)
    report = evaluate_trigger(ctx)
    units = next(c for c in report.criteria if c.name == "units")
    assert units.passed and units.value < MIN_UNITS, units.detail
    result = run_cycle(ctx, trigger="budget")
    assert len(result.patterns) == 1
    assert "systemctl" in result.patterns[0].name, result.patterns[0].name  # its tools, named
    assert result.patterns[0].event_count == 80 and result.patterns[0].is_new
    assert list(result.algorithms) == [METHOD]
    assert "too few for the clusterers" in (result.algorithms[METHOD].note or "")
    run = AnalysisRun.get_by_id(result.run_id)
    assert run.status == "completed" and run.metrics["reduction"] == "few units"
    ctx.close()


def test_the_trigger_does_not_start_a_cycle_that_would_refuse(tmp_path):
    """Two short sittings of different work: no group has a pattern's worth of events yet.
    The trigger says so (criterion ``units``) and the cycle refuses for the same reason."""
    ctx = _open(tmp_path)
    writing = [
        Event(
            ts=START + 3000 + i * 40.0,
            source="fs",
            action="modify",
            path=f"/home/u/Documents/notes/n{i % 4}.md",
        )
        for i in range(20)
    ]
    with ctx.db.atomic():
        insert_events(ctx.db, _admin(20, START) + writing)
    units = next(c for c in evaluate_trigger(ctx).criteria if c.name == "units")
    assert not units.passed and "no group of 30 varied events" in units.detail
    assert not evaluate_trigger(ctx).ready
    with pytest.raises(ValueError, match="no group of 30 varied events"):
        run_cycle(ctx, trigger="budget")
    assert not Pattern.select().exists()
    ctx.close()
