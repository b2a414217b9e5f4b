"""Helpers of the reliability battery (imported by its tests; conftest puts this folder first)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from waiting import wait_for

from selflow_qt.core.event import Event

REPO = Path(__file__).resolve().parents[2]


def command_event(i: int, pad: int = 80) -> Event:
    """A shell command event, numbered, with ``pad`` bytes of arguments."""
    return Event(ts=1.7e9 + i, source="shell", action="command", cmd=f"make target{i} " + "x" * pad)


def rows(db: Path, sql: str) -> list[tuple]:
    """The rows of one query, on a connection of its own."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def collector_status(db: Path, pid: int) -> dict[str, str]:
    """What collector process ``pid`` says of each of its collectors ({} before it said so),
    read on a read-only connection (this never makes the database)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error:
        return {}
    try:
        sql = "SELECT name, detail FROM collector_status WHERE pid = ?"
        return dict(conn.execute(sql, (pid,)).fetchall())
    except sqlite3.Error:  # its tables not made yet
        return {}
    finally:
        conn.close()


def wait_until_collecting(db: Path, pid: int, shell: bool = False) -> None:
    """Until collector ``pid`` says its watches are set (and, with ``shell``, that it tails the
    history, its end taken): what changes after that is its to record."""

    def ready() -> bool:
        status = collector_status(db, pid)
        watching = status.get("fs", "").startswith("watching")
        return watching and (not shell or status.get("shell", "").startswith("tailing"))

    wait_for(ready, 60, "the collector to watch its folder", every=0.1)  # hang guard


def run_selflow(
    data_dir: Path, *args: str, timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`python -m selflow_qt --data-dir DATA ARGS...` in a real process."""
    return subprocess.run(
        [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def start_selflow(data_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess, *words: str) -> None:
    """A non-zero exit with a one-line reason on stderr, never a traceback."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr.lower(), proc.stderr


def fill_disk(folder: Path, leave: int = 0) -> Path:
    """Write a filler file until the disk holding ``folder`` has ``leave`` bytes free."""
    filler = folder / "filler.bin"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(filler, "wb") as f:
        try:
            f.write(b"\0" * max(0, free - leave))
        except OSError:
            pass
    return filler
