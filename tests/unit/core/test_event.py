"""The event and its JSON Lines codec."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from selflow_qt.core.event import (
    FIELDS,
    Event,
    EventFormatError,
    event_from_dict,
    event_from_json,
    local_tz_offset,
    parse_ts,
)


def full_event() -> Event:
    return Event(
        ts=1_709_280_000.5,
        tz_offset=60,
        source="shell",
        action="command",
        path=None,
        dest=None,
        app="zsh",
        cmd="pytest -q",
        cwd="/w/proj",
        duration=2.5,
        meta={"shell": "zsh", "nested": {"a": [1, None]}},
    )


def test_json_has_exactly_the_interchange_keys_in_order() -> None:
    obj = json.loads(full_event().to_json())
    assert tuple(obj) == FIELDS
    assert obj["path"] is None and obj["meta"]["nested"] == {"a": [1, None]}


def test_json_round_trip_is_exact() -> None:
    ev = full_event()
    assert event_from_json(ev.to_json()) == ev
    assert event_from_json(ev.to_json()).to_json() == ev.to_json()


def test_size_is_the_serialized_byte_count() -> None:
    ev = Event(ts=1.0, source="fs", action="create", path="/w/été")
    assert ev.size() == len(ev.to_json().encode("utf-8"))
    assert ev.size() > len(ev.to_json())  # é takes two bytes


def test_now_stamps_time_and_local_offset() -> None:
    ev = Event.now("fs", "create", path="/w/a")
    assert abs(ev.ts - datetime.now().timestamp()) < 5
    assert ev.tz_offset == local_tz_offset(ev.ts)
    assert ev.path == "/w/a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1_700_000_000, 1_700_000_000.0),
        (1_700_000_000.25, 1_700_000_000.25),
        ("2024-03-01T08:00:00Z", 1_709_280_000.0),
        ("2024-03-01T09:00:00+01:00", 1_709_280_000.0),
        ("2024-03-01T08:00:00", 1_709_280_000.0),  # naive is UTC
        ("2024-03-01T08:00:00.500000+00:00", 1_709_280_000.5),
        ("2024-03-01T08:00:00.5Z", 1_709_280_000.5),
        ("2024-03-01T08:00:00.250000123Z", 1_709_280_000.25),  # aw-server-rust nanoseconds
        ("2024-03-01T03:00:00.5-05:00", 1_709_280_000.5),
    ],
)
def test_parse_ts_accepts_seconds_and_iso(text, expected) -> None:
    assert parse_ts(text) == expected


@pytest.mark.parametrize(
    "bad", [True, "yesterday", "", -1, float("nan"), float("inf"), 1e300, None, [1], {"t": 1}]
)
def test_parse_ts_rejects(bad) -> None:
    with pytest.raises(EventFormatError):
        parse_ts(bad)


def test_missing_tz_offset_is_the_local_one_at_that_time() -> None:
    ev = event_from_dict({"ts": 1_709_280_000, "source": "fs", "action": "create"})
    assert ev.tz_offset == local_tz_offset(1_709_280_000)
    assert ev.meta == {} and ev.path is None


BAD_RECORDS = {
    "not an object": ([], "expected a JSON object"),
    "unknown key": (
        {"ts": 1, "source": "fs", "action": "x", "colour": "red"},
        "unknown keys: colour",
    ),
    "missing ts": ({"source": "fs", "action": "x"}, "missing required key 'ts'"),
    "missing source": ({"ts": 1, "action": "x"}, "missing required key 'source'"),
    "missing action": ({"ts": 1, "source": "fs"}, "missing required key 'action'"),
    "unknown source": ({"ts": 1, "source": "mail", "action": "x"}, "source must be one of"),
    "empty action": ({"ts": 1, "source": "fs", "action": ""}, "action must be"),
    "numeric action": ({"ts": 1, "source": "fs", "action": 3}, "action must be"),
    "path not text": ({"ts": 1, "source": "fs", "action": "x", "path": 1}, "path must be"),
    "cmd not text": ({"ts": 1, "source": "shell", "action": "x", "cmd": ["ls"]}, "cmd must be"),
    "tz too big": ({"ts": 1, "source": "fs", "action": "x", "tz_offset": 5000}, "tz_offset"),
    "tz bool": ({"ts": 1, "source": "fs", "action": "x", "tz_offset": True}, "tz_offset"),
    "negative duration": ({"ts": 1, "source": "fs", "action": "x", "duration": -1}, "duration"),
    "nan duration": (
        {"ts": 1, "source": "fs", "action": "x", "duration": float("nan")},
        "duration",
    ),
    "text duration": ({"ts": 1, "source": "fs", "action": "x", "duration": "5s"}, "duration"),
    "meta list": ({"ts": 1, "source": "fs", "action": "x", "meta": [1]}, "meta must be"),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_bad_records_say_what_is_wrong(case: str) -> None:
    record, message = BAD_RECORDS[case]
    with pytest.raises(EventFormatError, match=message):
        event_from_dict(record)


def test_invalid_json_names_the_column() -> None:
    with pytest.raises(EventFormatError, match="invalid JSON: .* at column 13"):
        event_from_json('{"ts": 1.0, source}')


def test_nesting_nan_and_infinity_are_refused_with_a_reason() -> None:
    from selflow_qt.core.event import MAX_DEPTH

    deep = '{"ts": 1, "source": "fs", "action": "x", "meta": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(EventFormatError, match="nested deeper"):
        event_from_json(deep)
    nested = {"a": 1}
    for _ in range(MAX_DEPTH):
        nested = {"n": nested}
    with pytest.raises(EventFormatError, match="nested deeper"):
        event_from_dict({"ts": 1, "source": "fs", "action": "x", "meta": nested})
    for bad in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(EventFormatError, match="not allowed|NaN"):
            event_from_json('{"ts": 1, "source": "fs", "action": "x", "meta": {"v": ' + bad + "}}")


def test_long_fields_are_cut_and_marked() -> None:
    from selflow_qt.core.event import MAX_FIELD_CHARS, clip_event

    ev = Event(ts=1.0, source="shell", action="command", cmd="x" * (MAX_FIELD_CHARS + 5))
    out = clip_event(ev)
    assert len(out.cmd) == MAX_FIELD_CHARS and out.meta["truncated"] == {"cmd": MAX_FIELD_CHARS + 5}
    assert len(ev.cmd) == MAX_FIELD_CHARS + 5  # the caller's event is not changed
    short = Event(ts=1.0, source="shell", action="command", cmd="ls")
    assert clip_event(short) is short


@pytest.mark.parametrize("field", ["path", "dest", "app", "cmd", "cwd", "meta"])
def test_each_long_field_is_cut_and_the_rest_kept(field: str) -> None:
    from selflow_qt.core.event import MAX_FIELD_CHARS, clip_event

    long = "y" * (MAX_FIELD_CHARS + 1)
    meta = {"note": long, "n": 1} if field == "meta" else {"n": 1}
    fields = {f: "short" for f in ("path", "dest", "app", "cmd", "cwd")}
    if field != "meta":
        fields[field] = long
    out = clip_event(Event(ts=1.0, source="fs", action="move", meta=meta, **fields))
    key = "meta.note" if field == "meta" else field
    assert out.meta["truncated"] == {key: MAX_FIELD_CHARS + 1} and out.meta["n"] == 1
    texts = {f: getattr(out, f) for f in fields}
    texts["note"] = out.meta.get("note", "")
    assert sorted(len(t) for t in texts.values() if len(t) > 5) == [MAX_FIELD_CHARS]
