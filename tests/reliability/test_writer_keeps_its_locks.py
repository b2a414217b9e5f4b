"""The event writer never drops its process's SQLite locks (issue 27): closing any descriptor of
the database file drops every POSIX lock the process holds on it, SQLite's included. Another
process's connection then took itself for the last one when it closed (`selflow status`, the
fault harness), checkpointed and deleted the WAL, and every later commit of the collector went
to the deleted file: events acknowledged as committed, never stored (and a database that later
failed its integrity check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reliability_helpers import command_event

from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.writer import EventWriter


def _count_elsewhere(db: Path) -> int:
    """The events another process sees (its connection opened and closed, as a reader's is)."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "print(c.execute('SELECT count(*) FROM events').fetchone()[0]); c.close()"
    )
    out = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_commits_after_another_process_read_the_database_are_stored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    open_database(data).close()
    db = db_path_for(data)
    writer = EventWriter(db, flush_interval=0.05).start()
    try:
        for i in range(3):  # three batches: the writer checks its file before each
            writer.submit(command_event(i, 10))
            assert writer.flush(30)
        assert _count_elsewhere(db) == 3  # a reader came and went
        writer.submit(command_event(3, 10))
        assert writer.flush(30)  # committed, says the writer
        assert _count_elsewhere(db) == 4
    finally:
        writer.close()
    assert _count_elsewhere(db) == 4
