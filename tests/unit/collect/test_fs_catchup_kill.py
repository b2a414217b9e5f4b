"""A collector killed during its restart's catch-up loses no file (issue 27): the database it
leaves never holds a file's later write without the file's create, which the next catch-up
would take for proof that the file was recorded."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from selflow_qt.collect.fs import FilesystemCollector
from selflow_qt.collect.fs_snapshot import Snapshots
from selflow_qt.collect.fs_tree import TreeModel
from selflow_qt.collect.fs_watch import HAVE_INOTIFY
from selflow_qt.store.writer import EventWriter

pytestmark = pytest.mark.skipif(not HAVE_INOTIFY, reason="inotify (Linux) only")


class _Collecting:
    """A file collector writing into ``db`` through a real writer, as `selflow collect` does."""

    def __init__(self, root: Path, state: Path, db: Path) -> None:
        self.writer = EventWriter(db, flush_interval=0.05).start()
        self.collector = FilesystemCollector(
            [root], snapshot_dir=state, db_path=db, wait_committed=self.writer.flush
        )
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self.collector.run, args=(self.writer.submit, self.stopping), daemon=True
        )
        self.thread.start()
        assert self.collector.ready.wait(20)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(20)
        self.writer.close()


def _actions(db: Path, path: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT action FROM events WHERE source = 'fs' AND path = ? ORDER BY id", (str(path),)
        ).fetchall()
    return [a for (a,) in rows]


def _copy_committed(db: Path, to: Path) -> None:
    """What a SIGKILL now leaves of the database: what is committed."""
    src, dst = sqlite3.connect(db), sqlite3.connect(to)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def test_a_kill_during_the_catch_up_loses_no_file_created_while_starting(
    store, tmp_path, monkeypatch
):
    root, state = tmp_path / "w", tmp_path / "fs-state"
    root.mkdir()
    _Collecting(root, state, store.db_path).stop()  # the snapshot: an empty folder
    late = root / "late.txt"  # made while the restart starts: watched already, not yet scanned
    load = TreeModel.load

    def load_then_create(self, path):
        found = load(self, path)
        late.write_text("written while the collector starts")
        return found

    killed, killed_state = tmp_path / "killed.db", tmp_path / "killed-state"
    catch_up = Snapshots.not_yet_recorded

    def killed_during_catch_up(self, changes, saved_ns, until):
        # The live event of the file's write, if it can be committed meanwhile (1 s at most),
        # then a SIGKILL: the database and the snapshot as they are on disk at that moment.
        deadline = time.monotonic() + 1.0
        while not _actions(store.db_path, late) and time.monotonic() < deadline:
            time.sleep(0.02)
        _copy_committed(store.db_path, killed)
        shutil.copytree(state, killed_state)
        return catch_up(self, changes, saved_ns, until)

    monkeypatch.setattr(TreeModel, "load", load_then_create)
    monkeypatch.setattr(Snapshots, "not_yet_recorded", killed_during_catch_up)
    _Collecting(root, state, store.db_path).stop()
    monkeypatch.undo()
    assert _actions(killed, late) in ([], ["create"], ["create", "modify"])
    _Collecting(root, killed_state, killed).stop()  # the restart after the kill
    assert "create" in _actions(killed, late)
