"""Events as rows: every row is stored once, in order, with its values as given, whatever the
count (the rows go ROWS_PER_STATEMENT to a statement, the rest one by one)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from selflow_qt.core.event import Event
from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.rows import ROWS_PER_STATEMENT, event_row, insert_events

K = ROWS_PER_STATEMENT


def _event(i: int) -> Event:
    kinds = [
        Event(ts=1.7e9 + i / 3, source="fs", action="modify", path=f"/w/é{i}", meta={"size": i}),
        Event(ts=1.7e9 + i / 3, source="app", action="focus", app="code", duration=i / 7),
        Event(ts=1.7e9 + i / 3, source="shell", action="command", cmd=f"ls {i}", cwd="/w"),
    ]
    ev = kinds[i % 3]
    ev.tz_offset = -300 + i % 5
    return ev


@pytest.mark.parametrize("n", [1, K - 1, K, K + 1, 3 * K + 5])
def test_rows_are_stored_once_in_order_as_given(data_dir, n: int) -> None:
    events = [_event(i) for i in range(n)]
    with open_database(data_dir) as db, db.atomic():
        assert insert_events(db, events) == (n, sum(event_row(ev)[-1] for ev in events))
    with sqlite3.connect(db_path_for(data_dir)) as conn:
        stored = conn.execute(
            "SELECT ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta, size "
            "FROM events ORDER BY id"
        ).fetchall()
    assert stored == [event_row(ev) for ev in events]
    assert [json.loads(r[10]) for r in stored] == [ev.meta for ev in events]


def test_a_bad_row_stores_none_of_its_batch(data_dir) -> None:
    events = [_event(i) for i in range(2 * K)]
    events[K + 3] = Event(ts=None, source="fs", action="create")  # ts is NOT NULL
    with open_database(data_dir) as db:
        with pytest.raises(sqlite3.IntegrityError), db.atomic():
            insert_events(db, events)
        assert db.execute_sql("SELECT count(*) FROM events").fetchone()[0] == 0
