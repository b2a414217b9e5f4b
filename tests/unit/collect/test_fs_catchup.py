"""The restart's catch-up against the snapshot leaves out what the database already holds."""

from __future__ import annotations

import os
import time

import pytest

from selflow_qt.collect.fs import FilesystemCollector
from selflow_qt.core.event import Event
from selflow_qt.store.writer import insert_events


def _run_once(run_collector, root, state, store, **kw):
    r = run_collector(FilesystemCollector([root], snapshot_dir=state, db_path=store.db_path, **kw))
    assert r.collector.ready.wait(20)
    return r


def _offline(r) -> dict[str, str]:
    return {e.path: e.action for e in r.sink.snapshot() if e.meta.get("offline")}


@pytest.fixture
def folders(tmp_path):
    root, state = tmp_path / "w", tmp_path / "fs-state"
    root.mkdir()
    return root, state


def test_changes_recorded_after_the_snapshot_are_not_reported_again(run_collector, store, folders):
    root, state = folders
    (root / "old.txt").write_text("old")
    _run_once(run_collector, root, state, store).stop()  # the snapshot holds old.txt
    time.sleep(0.05)
    # Recorded live after that snapshot (then the process was killed before its next save):
    live, gone = root / "live.txt", root / "old.txt"
    live.write_text("live")
    gone.unlink()
    now = time.time()
    with store.db.atomic():
        insert_events(
            store.db,
            [
                Event(ts=now, source="fs", action="create", path=str(live)),
                Event(ts=now, source="fs", action="delete", path=str(gone)),
            ],
        )
    (root / "down.txt").write_text("made while stopped")  # never recorded
    r = _run_once(run_collector, root, state, store)
    assert _offline(r) == {str(root / "down.txt"): "create"}
    assert r.collector.already_recorded == 2


def test_a_file_written_after_its_recorded_event_is_a_modify(run_collector, store, folders):
    root, state = folders
    _run_once(run_collector, root, state, store).stop()
    f = root / "a.txt"
    f.write_text("one")
    with store.db.atomic():  # its create was committed live; then it was written again
        insert_events(store.db, [Event(ts=time.time(), source="fs", action="create", path=str(f))])
    time.sleep(0.05)
    f.write_text("two")
    r = _run_once(run_collector, root, state, store)
    assert _offline(r) == {str(f): "modify"}


def test_no_snapshot_is_saved_while_queued_events_are_not_committed(run_collector, store, folders):
    root, state = folders
    r = _run_once(run_collector, root, state, store, wait_committed=lambda timeout: False)
    r.stop()
    assert not state.exists() or not os.listdir(state)
