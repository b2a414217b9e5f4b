"""The real app as a process: single instance, no-tray fallback, live collection, clean quit."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_for

from selflow_qt.core.settings import Settings
from selflow_qt.ui.control import send_command

RUN_APP = Path(__file__).resolve().parents[1] / "support" / "run_app.py"  # the app with test hooks


def _settings(data_dir: Path, watched: Path) -> None:
    s = Settings(watch_roots=[str(watched)], collect_apps=False, collect_shell=False)
    s.save(data_dir)


def _start(data_dir: Path, *extra: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env_extra or {}))
    return subprocess.Popen(
        [sys.executable, str(RUN_APP), "-v", "--data-dir", str(data_dir), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def running_app(qapp, data_dir, tmp_path):
    watched = tmp_path / "watched"
    watched.mkdir()
    _settings(data_dir, watched)
    proc = _start(data_dir)
    try:
        wait_for(lambda: send_command(data_dir, "ping", 500) == "ok", 60, "the app to answer")
        yield proc, data_dir, watched
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_second_start_defers_to_the_first_and_quit_is_clean(running_app):
    proc, data_dir, watched = running_app
    second = _start(data_dir)
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0
    assert "already running" in out
    assert proc.poll() is None

    state = json.loads(send_command(data_dir, "state"))
    assert state["has_tray"] is False  # offscreen has no system tray: the window shows instead
    assert state["window_visible"] is True
    assert state["modules"]["torch"] is False  # idle: no model loaded

    # live collection runs on a worker: a new file becomes an event in the database
    (watched / "notes.md").write_text("hello")
    db = data_dir / "selflow.db"

    def recorded():
        con = sqlite3.connect(db)
        try:
            return con.execute(
                "SELECT count(*) FROM events WHERE path LIKE ?", (f"%{watched.name}/notes.md",)
            ).fetchone()[0]
        finally:
            con.close()

    wait_for(recorded, 30, "the new file's event")

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "no system tray" in out.lower()
    assert "stopped cleanly" in out
    con = sqlite3.connect(db)
    states = dict(con.execute("SELECT name, state FROM collector_status").fetchall())
    assert states.get("fs") == "stopped", out
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    # the lock is released: a new instance can start
    third = _start(data_dir)
    try:
        wait_for(lambda: send_command(data_dir, "ping", 500) == "ok", 60, "a fresh start")
    finally:
        third.send_signal(signal.SIGTERM)
        third.communicate(timeout=60)
    assert third.returncode == 0


def test_the_test_hooks_write_the_tray_menu_where_selflow_dump_tray_says(qapp, data_dir, tmp_path):
    """The dump is a test hook (tests/support/app_hooks.py), fed by the tray's menuChanged."""
    watched = tmp_path / "watched"
    watched.mkdir()
    _settings(data_dir, watched)
    dump = tmp_path / "tray.json"
    proc = _start(data_dir, env_extra={"SELFLOW_DUMP_TRAY": str(dump)})
    try:
        wait_for(dump.exists, 60, "the tray dump")
        menu = json.loads(dump.read_text(encoding="utf-8"))["menu"]
        assert any("Quit" in json.dumps(item) for item in menu), menu
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
