"""Failure 2: a SIGKILL, and changes made while SelFlow is down. The next start records the
unclean shutdown as a gap and reconciles the files against a persisted snapshot."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

from reliability_helpers import run_selflow, start_selflow
from waiting import wait_for


def _rows(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def test_sigkill_becomes_a_gap_and_offline_changes_are_recorded(tmp_path: Path) -> None:
    data, root = tmp_path / "data", tmp_path / "w"
    root.mkdir()
    for i in range(60):
        (root / f"old{i}.txt").write_text("before")
    db = data / "selflow.db"
    proc = start_selflow(data, "collect", "--roots", str(root), "--no-apps", "--no-shell")
    try:
        wait_for(
            lambda: (
                proc.poll() is not None
                or _rows(db, "SELECT state FROM collector_status WHERE name = 'fs'")
                == [("running",)]
            ),
            60,
            "the fs collector to run",
            every=0.2,
        )
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(1.0)
        for i in range(2_000):  # a burst, then the process is killed
            (root / f"live{i}.txt").write_text("x")
        time.sleep(1.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    # While SelFlow is down: 300 creates, 30 modifies, 30 deletes.
    for i in range(300):
        (root / f"down{i}.txt").write_text("new")
    later = time.time() + 10
    for i in range(30):
        p = root / f"old{i}.txt"
        p.write_text("after, longer")
        os.utime(p, (later, later))
    for i in range(30, 60):
        (root / f"old{i}.txt").unlink()
    again = run_selflow(
        data, "collect", "--roots", str(root), "--no-apps", "--no-shell", "--seconds", "3"
    )
    assert again.returncode == 0, again.stderr
    gaps = [json.loads(m) for (m,) in _rows(db, "SELECT meta FROM events WHERE action = 'gap'")]
    assert any(g.get("reason") == "unclean shutdown" for g in gaps), gaps
    events = _rows(db, "SELECT action, path, meta FROM events WHERE source = 'fs'")
    seen: dict[tuple[str, str], list[dict]] = {}
    for action, path, meta in events:
        seen.setdefault((action, os.path.basename(path)), []).append(json.loads(meta))
    lost = [i for i in range(2_000) if ("create", f"live{i}.txt") not in seen]
    assert not lost, f"{len(lost)} creates made before the kill were never recorded"
    for i in range(300):
        metas = seen.get(("create", f"down{i}.txt"))
        assert metas and any(m.get("offline") for m in metas), f"down{i}.txt"
    for i in range(30):
        metas = seen.get(("modify", f"old{i}.txt"))
        assert metas and any(m.get("offline") for m in metas), f"old{i}.txt modified"
    for i in range(30, 60):
        metas = seen.get(("delete", f"old{i}.txt"))
        assert metas and any(m.get("offline") for m in metas), f"old{i}.txt deleted"
