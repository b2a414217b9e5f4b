"""Failure 1: a full disk. The writer must outlive it, count what it could not save as a gap,
say "disk full" in its health, status and exit code, and keep everything already committed."""

from __future__ import annotations

import json
import time
from pathlib import Path

from reliability_helpers import (
    assert_clean_failure,
    command_event,
    fill_disk,
    rows,
    run_selflow,
    start_selflow,
)

from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.writer import EventWriter


def test_the_writer_survives_a_full_disk_and_records_the_loss(small_disk: Path) -> None:
    data = small_disk / "data"
    open_database(data).close()
    ballast = small_disk / "ballast.bin"
    ballast.write_bytes(b"\0" * 1_200_000)  # freed later, as a user would free space
    writer = EventWriter(db_path_for(data), max_queue=4_000, flush_interval=0.2).start()
    submitted = 0
    deadline = time.monotonic() + 120  # hang guard
    while not writer.health().disk_full and time.monotonic() < deadline:
        for _ in range(1_000):
            writer.submit(command_event(submitted))
            submitted += 1
        time.sleep(0.05)
    health = writer.health()
    assert health.disk_full and "full" in health.problem, health
    assert health.state == "error"  # alive and retrying, not gone
    ballast.unlink()
    assert writer.flush(90)
    for _ in range(10):  # after space is freed, new events are saved again
        writer.submit(command_event(submitted))
        submitted += 1
    deadline = time.monotonic() + 90  # hang guard: a batch may still be backing off
    while not (writer.flush(10) and writer.health().state == "running"):
        assert time.monotonic() < deadline, writer.health()
    writer.close()
    db = db_path_for(data)
    saved = rows(db, "SELECT count(*) FROM events WHERE source = 'shell'")[0][0]
    gaps = [json.loads(m) for (m,) in rows(db, "SELECT meta FROM events WHERE action = 'gap'")]
    assert saved + writer.stats.dropped == submitted  # every event is saved or counted
    assert sum(g["count"] for g in gaps) == writer.stats.dropped
    assert all("full" in g["reason"] for g in gaps if "queue" not in g["reason"])
    last = rows(db, "SELECT cmd FROM events WHERE source = 'shell' ORDER BY ts DESC LIMIT 1")
    assert last[0][0].startswith(f"make target{submitted - 1} ")
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_an_import_on_a_full_disk_fails_cleanly_and_keeps_what_was_there(
    small_disk: Path, tmp_path: Path
) -> None:
    data = small_disk / "data"
    first = tmp_path / "first.jsonl"
    first.write_text("".join(command_event(i).to_json() + "\n" for i in range(100)))
    big = tmp_path / "big.jsonl"
    big.write_text("".join(command_event(1000 + i).to_json() + "\n" for i in range(30_000)))
    assert run_selflow(data, "import", "jsonl", str(first)).returncode == 0
    fill_disk(small_disk, leave=200_000)
    proc = run_selflow(data, "import", "jsonl", str(big))
    assert_clean_failure(proc, "full", "nothing was imported")
    status = run_selflow(data, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["events"]["total"] == 100


def test_collect_on_a_full_disk_says_so_and_exits_non_zero(
    small_disk: Path, tmp_path: Path
) -> None:
    data = small_disk / "data"
    data.mkdir()
    history = tmp_path / ".bash_history"
    history.write_text("ls\n")
    (data / "settings.json").write_text(json.dumps({"shell_history_files": [str(history)]}))
    proc = start_selflow(data, "collect", "--no-fs", "--no-apps", "--seconds", "6")
    try:
        assert "collecting" in proc.stderr.readline()
        time.sleep(2)  # the collector has taken the file's size as its start
        with history.open("a") as f:
            for i in range(40_000):
                f.write(f"make target{i} {'x' * 80}\n")
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert "full" in err and "could not be saved" in err
    status = run_selflow(data, "status", "--json")  # what the tray and `selflow status` show
    assert status.returncode == 0, status.stderr
    writer = json.loads(status.stdout)["writer"]
    assert writer["disk_full"] or "full" in writer["last_problem"], writer
