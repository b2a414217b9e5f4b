"""The demo generator: deterministic, five workflows plus noise, the counts asked for."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from selflow_qt.cli import main
from selflow_qt.demo.generator import generate_demo, write_demo

START = datetime(2026, 11, 16).timestamp()  # a Monday, local midnight
WORKFLOWS = {"coding", "writing", "downloads", "design", "admin"}


def test_same_seed_same_events_and_other_seed_differs():
    a = [e.to_json() for e in generate_demo(2, seed=3, start=START)]
    b = [e.to_json() for e in generate_demo(2, seed=3, start=START)]
    c = [e.to_json() for e in generate_demo(2, seed=4, start=START)]
    assert a == b
    assert a != c


def test_week_has_every_workflow_noise_and_default_counts():
    events = list(generate_demo(7, seed=0, start=START))
    assert 15_000 <= len(events) <= 20_000
    counts = Counter(e.meta["workflow"] for e in events)
    assert set(counts) == WORKFLOWS | {"noise"}
    assert 0.05 <= counts["noise"] / len(events) <= 0.10
    assert all(counts[w] >= 500 for w in WORKFLOWS)
    assert [e.ts for e in events] == sorted(e.ts for e in events)


def test_daily_rhythm_weekdays_busier_and_nights_quiet():
    events = list(generate_demo(7, seed=0, start=START))
    by_day = Counter(datetime.fromtimestamp(e.ts).weekday() for e in events)
    assert min(by_day[d] for d in range(5)) > 2 * max(by_day[5], by_day[6])
    hours = Counter(datetime.fromtimestamp(e.ts).hour for e in events)
    assert sum(hours[h] for h in range(0, 7)) == 0
    assert hours[12] < hours[10] and hours[12] < hours[15]  # the lunch dip


def test_next_action_is_partly_predictable_in_coding():
    events = [e for e in generate_demo(7, seed=0, start=START) if e.meta["workflow"] == "coding"]
    after_add = Counter(
        (b.cmd or "").split(" ")[1] if b.cmd and b.cmd.startswith("git ") else b.action
        for a, b in zip(events, events[1:], strict=False)
        if a.cmd and a.cmd.startswith("git add")
    )
    assert after_add.most_common(1)[0][0] == "commit"
    assert len(after_add) > 1  # with variation


def test_events_per_day_scales_the_total():
    events = list(generate_demo(2, seed=1, start=START, events_per_day=10_000))
    assert len(events) == 20_000


def test_write_demo_stores_events_with_workflow(store):
    n = write_demo(store, days=1, seed=0, start=START, events_per_day=500)
    assert n == 500
    rows = store.db.execute_sql(
        "SELECT count(*), sum(meta LIKE '%workflow%') FROM events"
    ).fetchone()
    assert rows == (500, 500)


def test_cli_demo_writes_events(data_dir, capsys):
    import re
    import time

    from selflow_qt.demo.generator import recent_demo

    def due() -> int:  # the demo's 2 x 24 h end now (a day boundary may pass between calls)
        return sum(1 for _ in recent_demo(2, 0, now=time.time(), events_per_day=300))

    before = due()
    assert (
        main(["--data-dir", str(data_dir), "demo", "--days", "2", "--events-per-day", "300"]) == 0
    )
    after = due()
    written = int(
        re.search(r"wrote ([\d,]+) demo events", capsys.readouterr().out)[1].replace(",", "")
    )
    assert 0 < written and min(before, after) - 5 <= written <= max(before, after) + 5


def test_the_default_demo_week_ends_today_and_nothing_lies_in_the_future(store):
    import time
    from datetime import timedelta

    from selflow_qt.demo.generator import _default_start

    today = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert _default_start(7) == (today - timedelta(days=6)).timestamp()
    assert _default_start(1) == today.timestamp()
    before = time.time()
    write_demo(store, days=2, seed=0, events_per_day=3000)
    first, last = store.db.execute_sql("SELECT min(ts), max(ts) FROM events").fetchone()
    assert first > before - 2 * 86_400 and last <= time.time()


@pytest.mark.parametrize("hour", [1, 9, 15, 23])
def test_a_one_day_demo_holds_a_days_work_at_any_hour(hour):
    """`selflow demo --days 1` at 1 a.m. wrote 0 events (its day was today, whose work had not
    happened yet), so the Quick start's `selflow analyze` failed before the morning."""
    from selflow_qt.demo.generator import recent_demo

    now = datetime.now().replace(hour=hour, minute=20, second=0, microsecond=0).timestamp()
    events = list(recent_demo(1, 0, now=now, events_per_day=400))
    assert len(events) >= 150, len(events)  # a working day's share of 400
    assert all(now - 86_400 < e.ts <= now for e in events)


def test_cli_demo_uses_its_own_marked_folder(tmp_path, monkeypatch, capsys):
    from selflow_qt.demo.folder import is_demo_dir

    monkeypatch.delenv("SELFLOW_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["demo", "--days", "1", "--events-per-day", "200"]) == 0
    out = capsys.readouterr().out
    demo_dir = tmp_path / "selflow-demo"
    assert (demo_dir / "selflow.db").exists() and is_demo_dir(demo_dir)
    assert not (tmp_path / "selflow").exists()  # the real data folder was never touched
    assert f"selflow --data-dir {demo_dir}" in out
