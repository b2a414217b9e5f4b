"""Failures 6-8: training leftovers and file modes, a `selflow train` killed mid-run, and a
data folder inside a watched root."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from reliability_helpers import REPO, rows, run_selflow, start_selflow, wait_until_collecting
from waiting import wait_for

from selflow_qt.agents.training.runner import TrainingRunner, queue_training
from selflow_qt.core.event import Event
from selflow_qt.store.models import TrainingSession
from selflow_qt.store.writer import insert_events

PLANTED = "LeakedTok9f8e7d6c5b4a"


def _fake_python(tmp_path: Path, body: str) -> Path:
    """A stand-in for the training child's interpreter (the real one is not what is tested)."""
    script = tmp_path / f"python-{abs(hash(body)) % 10_000}"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return script


def _with_events(store) -> None:
    evs = [
        Event(ts=1.7e9 + i * 30, source="shell", action="command", cmd=f"make step{i % 5}")
        for i in range(60)
    ]
    with store.db.atomic():
        insert_events(store.db, evs)


def _modes(root: Path) -> list[str]:
    """Paths under ``root`` that are not private (files 0600, folders 0700)."""
    bad = []
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            p = Path(folder) / d
            if p.stat().st_mode & 0o777 != 0o700:
                bad.append(f"{p} {oct(p.stat().st_mode & 0o777)}")
        for f in files:
            p = Path(folder) / f
            if p.stat().st_mode & 0o777 != 0o600:
                bad.append(f"{p} {oct(p.stat().st_mode & 0o777)}")
    return bad


def test_a_failed_training_leaves_no_job_files_and_nothing_readable(store, tmp_path) -> None:
    _with_events(store)
    sid = queue_training(store)
    fail = _fake_python(tmp_path, f"echo 'boom: --token {PLANTED}' >&2; exit 1")
    out = TrainingRunner(store.data_dir, python=str(fail)).run(sid)
    assert out.status == "failed", out
    jobs = store.data_dir / "agents" / ".jobs"
    assert not (jobs / str(sid)).exists(), list((jobs / str(sid)).iterdir())
    row = TrainingSession.get_by_id(sid)
    assert PLANTED not in json.dumps(row.metadata)
    assert not _modes(store.data_dir / "agents")


def test_a_killed_train_does_not_leave_its_session_training_forever(store, tmp_path) -> None:
    _with_events(store)
    sid = queue_training(store)
    sleeper = _fake_python(tmp_path, "sleep 120")
    code = (
        "import sys; from pathlib import Path; from selflow_qt.agents.training.runner import "
        "TrainingRunner; TrainingRunner(Path(sys.argv[1]), python=sys.argv[2]).run(int(sys.argv[3]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(store.data_dir), str(sleeper), str(sid)],
        cwd=REPO,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120  # hang guard
        while TrainingSession.get_by_id(sid).status != "training":
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # `selflow train` and its child, killed
        proc.wait(30)
    assert TrainingSession.get_by_id(sid).status == "training"
    fail = _fake_python(tmp_path, "exit 1")
    TrainingRunner(store.data_dir, python=str(fail)).run(queue_training(store))
    row = TrainingSession.get_by_id(sid)
    assert row.status == "failed" and "interrupted" in row.metadata["error"]
    assert not (store.data_dir / "agents" / ".jobs" / str(sid)).exists()


def test_a_data_folder_inside_a_watched_root_is_not_recorded(tmp_path: Path) -> None:
    root = tmp_path / "w"
    data = root / "selflow-data"
    data.mkdir(parents=True)
    proc = start_selflow(data, "collect", "--roots", str(root), "--no-apps", "--no-shell")
    try:
        assert "collecting" in proc.stderr.readline()
        wait_until_collecting(data / "selflow.db", proc.pid)
        (data / "settings.json").write_text("{}")
        (data / "notes-of-selflow.txt").write_text("own file")
        run_selflow(data, "db", "backup")
        (root / "real.txt").write_text("the user's file")
        # The user's file comes last: once it is stored, so is whatever came before it.
        sql = f"SELECT 1 FROM events WHERE path = '{root / 'real.txt'}'"
        wait_for(lambda: rows(data / "selflow.db", sql), 60, "the user's file to be stored")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    conn = sqlite3.connect(data / "selflow.db")
    try:
        paths = [p for (p,) in conn.execute("SELECT path FROM events WHERE source = 'fs'")]
    finally:
        conn.close()
    assert str(root / "real.txt") in paths
    assert not [p for p in paths if p.startswith(str(data))], paths
