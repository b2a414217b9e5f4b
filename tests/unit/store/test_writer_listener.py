"""A failing flush listener never makes the writer write a committed batch again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from selflow_qt.core.event import Event
from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.writer import EventWriter


def test_a_listener_that_raises_does_not_store_the_batch_twice(tmp_path: Path) -> None:
    open_database(tmp_path).close()
    calls = []

    def listener(n, stats) -> None:
        calls.append(n)
        raise RuntimeError("a listener's bug")

    writer = EventWriter(db_path_for(tmp_path), on_flush=listener, flush_interval=0.05).start()
    for i in range(10):
        writer.submit(Event(ts=1.7e9 + i, source="shell", action="command", cmd=f"make t{i}"))
    assert writer.flush(30)
    writer.close()
    conn = sqlite3.connect(db_path_for(tmp_path))
    try:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (10,)
    finally:
        conn.close()
    assert calls and writer.health().state == "stopped" and writer.stats.dropped == 0
