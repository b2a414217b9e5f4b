"""The collection service: collectors into the real writer, health in collector_status."""

from __future__ import annotations

import sqlite3
import threading
import time

from selflow_qt.collect.base import Collector
from selflow_qt.collect.fs import FilesystemCollector
from selflow_qt.collect.service import CollectionService
from selflow_qt.collect.status import collect_status, format_status
from selflow_qt.store.db import db_path_for


class Broken(Collector):
    """A collector that fails at once (stands in for any crash)."""

    name = "broken"

    def run(self, emit, stopping: threading.Event) -> None:
        raise RuntimeError("device went away")


def _rows(db_path, sql, args=()):
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, args).fetchall()


def _wait(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_a_crashing_collector_is_marked_error_and_the_others_go_on(data_dir, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    fs = FilesystemCollector([root])
    service = CollectionService(data_dir, collectors=[Broken(), fs], heartbeat_seconds=0.5)
    service.start()
    try:
        assert fs.ready.wait(20)
        (root / "a.txt").write_text("x")
        db = db_path_for(data_dir)
        assert _wait(lambda: service.writer.flush() and _rows(db, "SELECT path FROM events"))
        assert _wait(lambda: len(_rows(db, "SELECT name FROM collector_status")) == 2)
        assert _wait(
            lambda: (
                dict(_rows(db, "SELECT name, state FROM collector_status"))
                == {"broken": "error", "fs": "running"}
            )
        )
        detail = _rows(db, "SELECT detail, pid FROM collector_status WHERE name = 'broken'")[0]
        assert "device went away" in detail[0]
        assert detail[1] > 0
    finally:
        service.stop()
    states = dict(_rows(db, "SELECT name, state FROM collector_status"))
    assert states == {"broken": "error", "fs": "stopped"}
    assert [h.state for h in service.health()] == ["error", "stopped"]


def test_stop_flushes_everything_submitted(data_dir, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    fs = FilesystemCollector([root])
    service = CollectionService(data_dir, collectors=[fs]).start()
    assert fs.ready.wait(20)
    for i in range(200):
        (root / f"f{i}").write_text("x")
    time.sleep(0.5)
    service.stop()
    paths = {
        r[0]
        for r in _rows(db_path_for(data_dir), "SELECT path FROM events WHERE action = 'create'")
    }
    assert {str(root / f"f{i}") for i in range(200)} <= paths


def test_status_reports_events_buffer_and_stale_collectors(store, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    fs = FilesystemCollector([root])
    service = CollectionService(store, collectors=[fs]).start()
    assert fs.ready.wait(20)
    (root / "a.txt").write_text("x")
    time.sleep(0.3)
    service.writer.flush()
    report = collect_status(store)
    service.stop()
    assert set(report) >= {"data_dir", "database", "events", "buffer", "collectors"}
    assert report["events"]["total"] >= 1
    assert report["events"]["today_by_source"].get("fs", 0) >= 1
    assert report["buffer"]["bytes"] > 0 and report["buffer"]["budget_bytes"] > 0
    assert report["database"]["bytes"] > 0 and report["database"]["schema_version"] >= 2
    assert report["collectors"][0]["name"] == "fs"
    text = format_status(report)
    assert "events" in text and "fs" in text
    # a 'running' row whose process is gone reads as stopped
    store.db.execute_sql(
        "UPDATE collector_status SET state = 'running', pid = 999999999, updated_at = ?",
        (time.time(),),
    )
    report = collect_status(store)
    assert report["collectors"][0]["state"] == "stopped"
    assert "not running" in report["collectors"][0]["detail"]


def test_other_packages_add_sections_to_the_status(store):
    import json

    from selflow_qt.collect import status

    sections = {
        "trigger": lambda ctx: {"ready": False, "reason": "buffer 0%"},
        "json": json.dumps,
    }
    report = status.collect_status(store, sections)
    assert report["trigger"] == {"ready": False, "reason": "buffer 0%"}
    assert "absent" not in report
    assert report["json"]["error"].startswith("TypeError")  # a failing section says so
