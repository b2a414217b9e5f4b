"""store/queries/events.py: every reader of whole events gets the same rows in the same order
(time, then arrival), decoded the same way, however it picks them."""

from __future__ import annotations

from selflow_qt.agents.model import dataset
from selflow_qt.agents.serving import serving
from selflow_qt.analyze.dataset import load_events as analysis_table
from selflow_qt.collect.export import export_jsonl
from selflow_qt.core.event import Event
from selflow_qt.store.queries import events as q
from selflow_qt.store.writer import insert_events

T0 = 1_700_000_000.0


def _put(store, events: list[Event]) -> None:
    with store.db.atomic():
        insert_events(store.db, events)


def _late_and_tied(store) -> list[str]:
    """Five events written out of time order, two of them at the same second; the commands in
    the one order (ts, then id)."""
    _put(
        store,
        [
            Event(ts=T0 + 30, source="shell", action="command", cmd="third"),
            Event(ts=T0 + 10, source="shell", action="command", cmd="first", meta={"k": 1}),
            Event(ts=T0 + 20, source="shell", action="command", cmd="second-a"),
            Event(ts=T0 + 20, source="shell", action="command", cmd="second-b"),
            Event(ts=T0 + 40, source="system", action="gap", meta={"n": 2}),
        ],
    )
    return ["first", "second-a", "second-b", "third"]


def test_every_reader_returns_the_one_order(store):
    order = _late_and_tied(store)
    db = store.db
    assert [e.cmd for e in dataset.load_events(db)] == order  # training
    assert [e.cmd for _, e in q.newest_written(db, 10)] == order  # serving's history
    assert [e.cmd for _, e in q.written_after(db, 0)] == order  # serving's stream
    assert [e.cmd for e, _key in serving.read_history(db)] == order
    assert analysis_table(db).cmd == order  # the analysis
    assert analysis_table(db, last_n=3).cmd == ["first", "second-a", "second-b"]
    every = [e.cmd for chunk in q.events_between(db, None, None) for _, e in chunk]
    assert every == [*order, None]  # export keeps system events


def test_picking_newest_written_and_latest_in_time_differ_only_in_which(store):
    _late_and_tied(store)
    written = [e.cmd for _, e in q.newest_written(store.db, 2)]  # the last two written
    latest = [e.cmd for e in q.latest_events(store.db, 2)]  # the last two in time
    assert written == ["second-a", "second-b"]
    assert latest == ["second-b", "third"]


def test_one_decoder_for_meta_and_ids(store):
    _late_and_tied(store)
    rows = q.written_after(store.db, 0, system=True)
    first = next(e for _, e in rows if e.cmd == "first")
    assert first.meta == {"k": 1} and first.tz_offset == 0
    ids = [i for i, _ in rows]
    assert sorted(ids) == list(range(1, 6))
    assert [e.cmd for e in q.events_by_ids(store.db, [3, 1, 2])] == ["first", "second-a", "third"]
    assert q.event_count(store.db) == 5 and q.last_event_id(store.db) == 5


def test_export_decodes_through_the_store(store):
    import io
    import json

    _late_and_tied(store)
    out = io.StringIO()
    assert export_jsonl(store.db, out, with_patterns=False) == 5
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line.get("cmd") for line in lines] == ["first", "second-a", "second-b", "third", None]
    assert lines[0]["meta"] == {"k": 1}
