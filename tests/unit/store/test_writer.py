"""The event writer: batches, coalesces, records gaps, never blocks a producer for long."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.writer import EventWriter


@pytest.fixture
def db_path(data_dir):
    open_database(data_dir).close()
    return db_path_for(data_dir)


def _rows(db_path, sql="SELECT source, action, path, meta FROM events ORDER BY id"):
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def _ev(i: int, action: str = "create", path: str | None = None) -> Event:
    return Event(ts=1_700_000_000 + i, source="fs", action=action, path=path or f"/p/f{i}")


def test_many_events_are_written_in_few_batches(db_path):
    w = EventWriter(db_path, batch_max=5_000).start()
    for i in range(12_000):
        assert w.submit(_ev(i))
    assert w.flush()
    w.close()
    assert len(_rows(db_path)) == 12_000
    assert w.stats.written == 12_000
    assert w.stats.batches <= 12  # batched, not one transaction per event


def test_repeated_modifies_of_one_path_coalesce(db_path):
    w = EventWriter(db_path, flush_interval=1.0).start()
    w.submit(_ev(0, "create", "/p/a"))
    for i in range(1, 50):
        w.submit(_ev(i, "modify", "/p/a"))
    w.submit(_ev(60, "modify", "/p/b"))
    w.flush()
    w.close()
    rows = _rows(db_path, "SELECT action, path, meta, ts FROM events ORDER BY id")
    assert [(a, p) for a, p, _, _ in rows] == [
        ("create", "/p/a"),
        ("modify", "/p/a"),
        ("modify", "/p/b"),
    ]
    assert '"coalesced":49' in rows[1][2]
    assert rows[1][3] == 1_700_000_049  # the last modification's time
    assert w.stats.coalesced == 48


def test_a_full_queue_drops_without_blocking_and_records_a_gap(db_path):
    blocker = sqlite3.connect(db_path, timeout=30)
    blocker.execute("BEGIN IMMEDIATE")  # the consumer stalls: every write waits for this lock
    w = EventWriter(db_path, max_queue=5, batch_max=2, put_timeout=0.05, flush_interval=0.05)
    w.start()
    slowest = 0.0
    accepted = 0
    for i in range(60):
        t0 = time.monotonic()
        accepted += w.submit(_ev(i))
        slowest = max(slowest, time.monotonic() - t0)
    assert slowest < 2.0  # generous anti-hang guard: bounded by put_timeout, never the stall
    assert w.stats.dropped > 0
    blocker.rollback()
    blocker.close()
    assert w.flush(timeout=60)
    w.close()
    rows = _rows(db_path)
    gaps = [r for r in rows if r[:2] == ("system", "gap")]
    assert len(gaps) >= 1
    total_gap = sum(int(__import__("json").loads(r[3])["count"]) for r in gaps)
    assert total_gap == w.stats.dropped
    assert len(rows) - len(gaps) == accepted


def test_events_reach_the_file_within_a_second_without_flush(db_path):
    w = EventWriter(db_path, flush_interval=5.0).start()  # capped at 1 s
    w.submit(_ev(1))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _rows(db_path):
        time.sleep(0.05)
    assert _rows(db_path), "nothing written within the flush interval"
    w.close()


def test_privacy_rules_apply_before_the_queue(db_path):
    w = EventWriter(db_path, PrivacyFilter()).start()
    assert not w.submit(Event(ts=1.0, source="fs", action="create", path="/h/.ssh/id_rsa"))
    w.submit(
        Event(
            ts=2.0, source="shell", action="command", cmd="curl -H 'Authorization: Bearer abc123'"
        )
    )
    w.flush()
    w.close()
    rows = _rows(db_path, "SELECT cmd FROM events")
    assert rows == [("curl -H 'Authorization: Bearer [REDACTED]'",)]
    assert w.stats.filtered == 1


def test_many_producers_lose_nothing(db_path):
    w = EventWriter(db_path).start()
    threads = [
        threading.Thread(target=lambda k=k: [w.submit(_ev(k * 10_000 + i)) for i in range(2_000)])
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    assert len(_rows(db_path)) == 8_000


def test_a_failing_write_is_retried_not_lost(db_path):
    w = EventWriter(db_path, flush_interval=0.1).start()
    with sqlite3.connect(db_path) as conn:
        conn.execute("ALTER TABLE events RENAME TO events_away")  # every insert now fails
    for i in range(10):
        w.submit(_ev(i))
    deadline = time.monotonic() + 10
    while w.error is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert isinstance(w.error, sqlite3.Error)  # it failed at least once ...
    with sqlite3.connect(db_path) as conn:
        conn.execute("ALTER TABLE events_away RENAME TO events")
    assert w.flush(timeout=30)
    w.close()
    assert len(_rows(db_path)) == 10  # ... and the retry wrote everything
    assert w.stats.dropped == 0 and w.error is None


def test_meta_is_stored_as_compact_json_and_bad_meta_is_refused(db_path):
    import json

    from selflow_qt.store.writer import _encode_meta

    samples = [{"size": 3}, {"a": [1, 2.5, None, True], "é": 'ü\n"q"'}, {"n": {"m": {}}}]
    for meta in samples:
        assert _encode_meta(meta) == json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
    w = EventWriter(db_path).start()
    with pytest.raises(TypeError, match="not JSON serializable"):
        w.submit(Event(ts=1.0, source="fs", action="create", path="/x", meta={"bad": {1, 2}}))
    w.submit(Event(ts=2.0, source="fs", action="create", path="/y", meta={"ok": [1]}))
    w.close()
    assert _rows(db_path, "SELECT path, meta FROM events") == [("/y", '{"ok":[1]}')]


def _failing_inserts(monkeypatch, failures: list[BaseException]) -> None:
    """The first len(failures) batch inserts raise those errors (a fake of SQLite's failures)."""
    from selflow_qt.store import writer as writer_module

    real = writer_module.insert_rows

    def insert(db, rows):
        if failures:
            raise failures.pop(0)
        return real(db, rows)

    monkeypatch.setattr(writer_module, "insert_rows", insert)


def test_errors_of_any_class_are_retried_and_reported(db_path, monkeypatch):
    import peewee

    _failing_inserts(
        monkeypatch,
        [peewee.OperationalError("cannot rollback - no transaction is active"), OSError(28, "x")],
    )
    w = EventWriter(db_path, flush_interval=0.1).start()
    for i in range(5):
        w.submit(_ev(i))
    deadline = time.monotonic() + 10
    while w.health().state != "error" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert w.health().state == "error" and w.health().problem
    assert w.flush(timeout=30)
    health = w.health()
    w.close()
    assert health.state == "running" and "full" in health.last_problem  # errno 28: ENOSPC
    assert len(_rows(db_path)) == 5 and w.stats.dropped == 0


def test_a_batch_given_up_on_becomes_a_gap_with_its_reason(db_path, monkeypatch):
    import json

    _failing_inserts(monkeypatch, [sqlite3.OperationalError("database or disk is full")] * 2)
    w = EventWriter(db_path, flush_interval=5).start()
    for i in range(4):
        w.submit(_ev(i))
    w.close(timeout=30)  # closing: a failing batch is retried briefly, then counted
    assert w.stats.dropped == 4 and w.health().dropped == 4
    gaps = _rows(db_path, "SELECT meta FROM events WHERE action = 'gap'")
    assert [json.loads(m)["count"] for (m,) in gaps] == [4]
    assert "full" in json.loads(gaps[0][0])["reason"]
