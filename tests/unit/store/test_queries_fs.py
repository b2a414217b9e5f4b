"""store.queries.fs: the newest committed fs event per path, as the path's last known state."""

from __future__ import annotations

from selflow_qt.core.event import Event
from selflow_qt.store.queries.fs import newest_fs_changes
from selflow_qt.store.writer import insert_events


def _put(store, *events: Event) -> None:
    with store.db.atomic():
        insert_events(store.db, list(events))


def test_newest_event_per_path_says_whether_it_is_there(store):
    _put(
        store,
        Event(ts=100.0, source="fs", action="create", path="/w/a"),
        Event(ts=101.0, source="fs", action="delete", path="/w/a"),
        Event(ts=102.0, source="fs", action="create", path="/w/b"),
        Event(ts=103.0, source="fs", action="move", path="/w/b", dest="/w/c"),
        Event(ts=104.0, source="shell", action="command", path="/w/d", cmd="touch /w/d"),
    )
    got = newest_fs_changes(store.db, ["/w/a", "/w/b", "/w/c", "/w/d", "/w/e"], since=0.0)
    assert {p: (r.action, r.exists) for p, r in got.items()} == {
        "/w/a": ("delete", False),
        "/w/b": ("move", False),  # moved away
        "/w/c": ("move", True),  # moved here
    }


def test_events_before_since_are_not_weighed(store):
    _put(store, Event(ts=100.0, source="fs", action="create", path="/w/a"))
    assert newest_fs_changes(store.db, ["/w/a"], since=100.5) == {}
    assert newest_fs_changes(store.db, ["/w/a"], since=100.0)["/w/a"].ts == 100.0


def test_many_paths_are_asked_in_chunks(store):
    paths = [f"/w/f{i}" for i in range(1500)]
    _put(store, *(Event(ts=200.0, source="fs", action="create", path=p) for p in paths))
    assert len(newest_fs_changes(store.db, paths, since=0.0)) == 1500


def test_events_from_until_on_are_not_weighed(store):
    """The restart's own live events (from its start on) never hide a catch-up change."""
    _put(store, Event(ts=100.0, source="fs", action="modify", path="/w/a"))
    assert newest_fs_changes(store.db, ["/w/a"], since=0.0, until=100.0) == {}
    assert "/w/a" in newest_fs_changes(store.db, ["/w/a"], since=0.0, until=100.5)
