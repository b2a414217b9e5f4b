"""Disk faults while SelFlow runs (issue 27, item 3): a full disk, a data folder that turns
read-only, a database file replaced by garbage. Each gives one clear line; the writer keeps its
queue in memory up to its limit and writes it once the fault is gone; nothing committed is lost,
and nothing is written into a file that is not the database any more."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from programs import require_program
from reliability_helpers import command_event, fill_disk, rows, run_selflow, start_selflow

from selflow_qt.store import writer_connection
from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.errors import describe
from selflow_qt.store.writer import EventWriter

# Longer than the writer kept retrying before it gave a batch up (8 tries, about 12 s).
OUTAGE_S = 15.0


def _commands(db: Path) -> int:
    return rows(db, "SELECT count(*) FROM events WHERE source = 'shell'")[0][0]


def _wait_for(pred, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout  # hang guard
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _committed(data: Path, n: int) -> EventWriter:
    """A running writer that has committed ``n`` commands."""
    open_database(data).close()
    writer = EventWriter(db_path_for(data), max_queue=5_000, flush_interval=0.1).start()
    for i in range(n):
        writer.submit(command_event(i, 40))
    assert writer.flush(30)
    return writer


def test_a_full_disk_holds_the_queue_in_memory_and_writes_it_when_space_frees(
    small_disk: Path,
) -> None:
    data = small_disk / "data"
    writer = _committed(data, 200)
    filler = fill_disk(small_disk, leave=0)
    for i in range(200, 3_200):  # within the queue's limit: none may be dropped
        assert writer.submit(command_event(i, 40))
    _wait_for(lambda: writer.health().disk_full, "the writer never saw the full disk")
    assert "full" in writer.health().problem
    time.sleep(OUTAGE_S)  # a long outage: the writer must not give its queue up
    health = writer.health()
    assert health.state == "error" and health.dropped == 0, health
    assert health.queued == 3_000, health
    filler.unlink()
    _wait_for(lambda: writer.flush(5) and writer.health().state == "running", "never recovered")
    writer.close()
    db = db_path_for(data)
    assert _commands(db) == 3_200
    assert writer.stats.dropped == 0
    assert rows(db, "SELECT count(*) FROM events WHERE action = 'gap'") == [(0,)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_past_its_limit_the_held_queue_drops_new_events_at_once_and_records_a_gap(
    small_disk: Path,
) -> None:
    data = small_disk / "data"
    open_database(data).close()
    writer = EventWriter(db_path_for(data), max_queue=1_000, flush_interval=0.1).start()
    for submitted in range(100):
        writer.submit(command_event(submitted))
    assert writer.flush(30)
    submitted = 100
    filler = fill_disk(small_disk, leave=0)
    deadline = time.monotonic() + 60  # hang guard
    while not writer.health().disk_full:
        assert time.monotonic() < deadline, writer.health()
        for _ in range(50):
            assert writer.submit(command_event(submitted)), writer.health()
            submitted += 1
        time.sleep(0.2)
    room = writer.max_queue - writer.queued
    t0 = time.monotonic()
    taken = sum(writer.submit(command_event(submitted + i)) for i in range(3_000))
    submitted += 3_000
    # A producer is not kept waiting for room the writer cannot make (0.25 s per event before).
    assert time.monotonic() - t0 < 30, "submit waited on a writer that cannot write"
    assert taken == room and writer.stats.dropped == 3_000 - room
    filler.unlink()
    _wait_for(lambda: writer.flush(5) and writer.health().state == "running", "never recovered")
    writer.close()
    db = db_path_for(data)
    assert _commands(db) == submitted - writer.stats.dropped
    (gap,) = [json.loads(m) for (m,) in rows(db, "SELECT meta FROM events WHERE action='gap'")]
    assert gap["count"] == 3_000 - room and "full" in gap["reason"]


def test_a_data_folder_turned_read_only_holds_the_queue_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder's file system remounted read-only under an open database (a kernel does this
    after disk errors) cannot be made here without closing the file first, so SQLite itself is
    made read-only for the writer's connections: its real error, SQLITE_READONLY."""
    data = tmp_path / "data"
    read_only = {"on": False}
    real_connect = writer_connection.connect

    def connect_maybe_read_only(path: Path):
        db = real_connect(path)
        if read_only["on"]:
            db.execute_sql("PRAGMA query_only = ON")
        return db

    monkeypatch.setattr(writer_connection, "connect", connect_maybe_read_only)
    writer = _committed(data, 100)
    writer._drop_connection()  # the next batch opens a connection, as after any failure
    read_only["on"] = True
    for i in range(100, 1_100):
        assert writer.submit(command_event(i, 40))
    _wait_for(lambda: writer.health().state == "error", "the writer never failed")
    problem = writer.health().problem
    assert "read-only" in problem and str(data) in problem, problem
    time.sleep(OUTAGE_S)
    assert writer.health().dropped == 0 and writer.health().queued == 1_000
    read_only["on"] = False
    _wait_for(lambda: writer.flush(5) and writer.health().state == "running", "never recovered")
    writer.close()
    assert _commands(db_path_for(data)) == 1_100 and writer.stats.dropped == 0


def test_a_read_only_file_system_is_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    exc = OSError(30, "Read-only file system", str(folder / "selflow.db"))
    problem = describe(exc, folder / "selflow.db")
    assert problem.kind == "read_only"
    assert problem.message.startswith(f"the data folder {folder} is read-only"), problem.message
    io = sqlite3.OperationalError("attempt to write a readonly database")
    assert describe(io, folder / "selflow.db").kind == "read_only"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["overwritten", "renamed over"])
def test_a_database_replaced_by_garbage_is_named_damaged_and_never_written_into(
    tmp_path: Path, how: str
) -> None:
    data = tmp_path / "data"
    writer = _committed(data, 300)
    db = db_path_for(data)
    garbage = os.urandom(64 * 1024)
    if how == "overwritten":  # `cp junk selflow.db`: the same file, new bytes
        db.write_bytes(garbage)
    else:  # a program saving over it: a new file renamed into place
        (data / "junk").write_bytes(garbage)
        os.replace(data / "junk", db)
    for i in range(300, 600):
        writer.submit(command_event(i, 40))
    _wait_for(lambda: writer.health().state == "error", "the writer never noticed the garbage")
    problem = writer.health().problem
    assert "damaged" in problem and "selflow db" in problem, problem
    # Closing its connection, SQLite may copy the WAL's last committed pages into the file
    # (its checkpoint on close); after that no event reaches it.
    time.sleep(0.5)  # the failed connection is closed right after the failure is reported
    before = _digest(db)
    time.sleep(2.0)  # the writer retries meanwhile
    assert _digest(db) == before, "the writer wrote into a file that is not its database"
    assert writer.health().dropped == 0 and writer.health().queued == 300
    writer.close(timeout=5)
    assert _digest(db) == before


def _ro_bind(folder: Path):
    mount = require_program("mount")
    bound = subprocess.run([mount, "--bind", str(folder), str(folder)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.decode(errors='replace').strip()}")
    subprocess.run([mount, "-o", "remount,bind,ro", str(folder)], check=True)


def test_collect_in_a_read_only_data_folder_says_so_in_one_line(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (mount --bind)")
    data = tmp_path / "data"
    first = tmp_path / "first.jsonl"
    first.write_text("".join(command_event(i, 40).to_json() + "\n" for i in range(50)))
    assert run_selflow(data, "import", "jsonl", str(first)).returncode == 0
    _ro_bind(data)
    try:
        proc = run_selflow(data, "collect", "--no-fs", "--no-apps", "--seconds", "2")
    finally:
        subprocess.run([require_program("umount"), str(data)], capture_output=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    said = [line for line in proc.stderr.splitlines() if "read-only" in line]
    assert len(said) == 1 and str(data) in said[0], proc.stderr
    assert "damaged" not in proc.stderr, proc.stderr  # it is not: do not send them to recover
    status = run_selflow(data, "status", "--json")
    assert json.loads(status.stdout)["events"]["total"] == 50


def test_collect_says_once_while_running_that_its_database_was_replaced_by_garbage(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    history = tmp_path / ".bash_history"
    history.write_text("ls\n")
    open_database(data).close()
    (data / "settings.json").write_text(json.dumps({"shell_history_files": [str(history)]}))
    proc = start_selflow(data, "collect", "--no-fs", "--no-apps")
    try:
        assert "collecting" in proc.stderr.readline()
        time.sleep(1.5)  # the collector has taken the history's size as its start
        db = db_path_for(data)
        db.write_bytes(os.urandom(64 * 1024))
        before = _digest(db)
        with history.open("a") as f:
            f.write("make one\nmake two\n")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        # Said while it runs, not only at exit.
        _wait_for(lambda: any("damaged" in line for line in lines), "collect never said it")
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = "".join(lines)
    assert "Traceback" not in err, err
    said = [line for line in lines if "damaged" in line and "selflow db" in line]
    assert said, err
    assert proc.returncode == 3, err
    assert _digest(db) == before


def test_the_app_line_puts_a_writer_problem_first(tmp_path: Path) -> None:
    from selflow_qt.workers.jobs import CollectionState

    full = describe(OSError(28, "No space left on device"), tmp_path / "selflow.db").message
    cs = CollectionState(
        running=True,
        written=5,
        collectors=[("shell", "running", "tailing ~/.bash_history")],
        writer_problem=full,
    )
    assert cs.summary().startswith("Events not saved: the disk holding")
    assert cs.problems == [f"Events not saved: {full}"]
