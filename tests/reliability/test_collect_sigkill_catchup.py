"""`selflow collect` killed with SIGKILL again and again while files appear: every file is
recorded once. What was committed live is not reported again by the restart's catch-up, and
what appeared while it was down is caught up."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from selflow_qt.collect.fs_watch import HAVE_INOTIFY

pytestmark = pytest.mark.skipif(not HAVE_INOTIFY, reason="inotify (Linux) only")
REPO = Path(__file__).resolve().parents[2]


def _start(data_dir: Path, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "selflow_qt",
            "--data-dir",
            str(data_dir),
            "collect",
            "--roots",
            str(root),
            "--no-apps",
            "--no-shell",
        ],  # fmt: skip
        cwd=REPO,
        env={**os.environ, "SELFLOW_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _watching(db: Path, pid: int, timeout: float = 60.0) -> None:
    """Wait until this process's fs collector has taken its picture (and caught up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                row = conn.execute(
                    "SELECT detail, pid FROM collector_status WHERE name='fs'"
                ).fetchone()
            if row and row[1] == pid and row[0].startswith("watching"):
                return
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    raise AssertionError("the collector never reported it was watching")


def _file_counts(db: Path, root: Path) -> dict[str, int]:
    """How many times each file under ``root`` was recorded as created (live or caught up)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT path FROM events WHERE source='fs' AND action = 'create' AND path LIKE ?",
            (f"{root}{os.sep}f%",),
        ).fetchall()
    counts: dict[str, int] = {}
    for (p,) in rows:
        counts[p] = counts.get(p, 0) + 1
    return counts


def test_sigkilled_collector_records_every_file_once(data_dir, tmp_path):
    """5 SIGKILLs, 1.5-3.5 s apart, while 400 files appear one by one (issue 27's case, at
    twice its pace: the same restarts and catch-ups in half the time)."""
    root = tmp_path / "w"
    root.mkdir()
    db = data_dir / "selflow.db"
    n_files, kills = 400, 5
    rng = random.Random(27)
    made: list[Path] = []
    stop = threading.Event()

    def appear() -> None:  # one by one, whether the collector is up or down
        for i in range(n_files):
            if stop.is_set():
                return
            p = root / f"f{i:04d}.txt"
            p.write_text(f"file {i}\n")
            made.append(p)
            time.sleep(0.03)

    proc = _start(data_dir, root)
    try:
        _watching(db, proc.pid)
        writer = threading.Thread(target=appear, daemon=True)
        writer.start()
        for _ in range(kills):
            time.sleep(rng.uniform(1.5, 3.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc = _start(data_dir, root)
            _watching(db, proc.pid)
        writer.join(120)
        # The last live events reach the database (flush <= 1 s); a file never stored is
        # reported below, after at most this long.
        deadline = time.monotonic() + 30
        while len(_file_counts(db, root)) < len(made) and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert len(made) == n_files
    counts = _file_counts(db, root)
    missing = [str(p) for p in made if str(p) not in counts]
    twice = {p: n for p, n in counts.items() if n > 1}
    assert not missing, f"{len(missing)} of {n_files} files never recorded: {missing[:5]}"
    assert not twice, f"{len(twice)} of {n_files} files recorded twice or more"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
