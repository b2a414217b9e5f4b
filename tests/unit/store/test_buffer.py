"""The buffer budget: every written event's bytes are accounted, across restarts, until reset."""

from __future__ import annotations

import pytest

from selflow_qt.core.event import Event
from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.state import buffer_fill, reset_buffer
from selflow_qt.store.writer import EventWriter, event_row


def _write(data_dir, n: int) -> int:
    w = EventWriter(db_path_for(data_dir)).start()
    for i in range(n):
        w.submit(Event(ts=1_700_000_000 + i, source="shell", action="command", cmd=f"make t{i}"))
    w.close()
    return w.stats.bytes


def test_fill_counts_every_event_and_survives_reopening(data_dir):
    open_database(data_dir).close()
    first = _write(data_dir, 100)
    db = open_database(data_dir)
    fill = buffer_fill(db, 1_000_000)
    assert (fill.events, fill.bytes) == (100, first)
    stored = db.execute_sql("SELECT sum(size) FROM events").fetchone()[0]
    assert stored == first
    db.close()
    second = _write(data_dir, 50)  # a restart: a new writer, a new connection
    db = open_database(data_dir)
    fill = buffer_fill(db, 1_000_000)
    assert (fill.events, fill.bytes) == (150, first + second)
    assert fill.percent == pytest.approx(100.0 * (first + second) / 1_000_000)
    db.close()


def test_size_tracks_the_serialized_event(data_dir):
    ev = Event(ts=1.0, source="fs", action="create", path="/home/u/" + "x" * 1000)
    small = Event(ts=1.0, source="fs", action="create", path="/a")
    assert event_row(ev)[-1] - event_row(small)[-1] == len(ev.path) - len(small.path)
    assert abs(event_row(ev)[-1] - ev.size()) < 64


def test_reset_starts_a_new_cycle_and_keeps_the_events(data_dir):
    open_database(data_dir).close()
    _write(data_dir, 20)
    db = open_database(data_dir)
    reset_buffer(db)
    fill = buffer_fill(db, 64 * 1024 * 1024)
    assert (fill.bytes, fill.events) == (0, 0)
    assert fill.cycle_started > 0
    assert db.execute_sql("SELECT count(*) FROM events").fetchone()[0] == 20
    db.close()
    _write(data_dir, 5)
    db = open_database(data_dir)
    fill = buffer_fill(db, 64 * 1024 * 1024)
    assert fill.events == 5
    db.close()
