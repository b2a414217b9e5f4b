"""Reading an ActivityWatch export (a file, or a running aw-server's REST API) as `aw` events.

aw-server's ``/api/0/export`` answers ``{"buckets": {id: {"id", "type", "client", "hostname",
"created", "events": [{"timestamp", "duration", "data"}]}}}``; older aw-server-rust versions
answered the bare ``{id: {...}}`` map, which is accepted too.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from selflow_qt.collect.import_source import ImportFormatError, Record, register_source
from selflow_qt.core.event import (
    Event,
    EventFormatError,
    check_meta,
    clip_event,
    local_tz_offset,
    parse_ts,
)

FETCH_TIMEOUT_S = 10.0
EXPORT_PATH = "/api/0/export"


class _BadRecord(ValueError):
    """One event or bucket that cannot be imported; the message says why."""


def _event_from_aw(bucket_id: str, bucket_type: str, raw: Any) -> Event:
    if not isinstance(raw, dict):
        raise _BadRecord(f"an event must be a JSON object, got {type(raw).__name__}")
    if raw.get("timestamp") is None:
        raise _BadRecord("event has no timestamp")
    try:
        ts = parse_ts(raw["timestamp"])
    except (EventFormatError, OverflowError) as exc:
        raise _BadRecord(f"timestamp: {exc}") from None
    dur = raw.get("duration")
    if dur is not None and (
        isinstance(dur, bool) or not isinstance(dur, (int, float)) or not 0 <= dur < math.inf
    ):
        raise _BadRecord(f"duration must be a non-negative number of seconds, got {dur!r}")
    try:
        dur = None if dur is None else float(dur)
    except OverflowError:  # an integer past a float's range
        raise _BadRecord("duration is too large") from None
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise _BadRecord(f"data must be a JSON object, got {type(data).__name__}")
    kw: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    if bucket_type == "currentwindow":
        action = "focus"
        kw["app"] = _text(data, "app")
        meta["title"] = _text(data, "title", required=False) or ""
    elif bucket_type == "afkstatus":
        action = data.get("status")
        if action not in ("afk", "not-afk"):
            raise _BadRecord(f"data.status must be 'afk' or 'not-afk', got {action!r}")
    elif bucket_type == "web.tab.current":
        action = "browse"
        meta["url"] = _text(data, "url")
        for key in ("title", "audible", "incognito", "tabCount"):
            if data.get(key) is not None:
                meta[key] = data[key]
    elif bucket_type == "app.editor.activity":
        action = "edit"
        kw["path"] = _text(data, "file")
        for key in ("project", "language"):
            if data.get(key) is not None:
                meta[key] = data[key]
    else:
        action = bucket_type
        meta.update(data)
    meta["bucket"] = bucket_id
    try:
        check_meta(meta)  # no NaN, no nesting past the limit
    except EventFormatError as exc:
        raise _BadRecord(f"data: {exc}") from None
    return clip_event(
        Event(
            ts=ts,
            tz_offset=local_tz_offset(ts),
            source="aw",
            action=action,
            duration=dur,
            meta=meta,
            **kw,
        )
    )


def _text(data: dict, key: str, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _BadRecord(f"data.{key} must be a string, got {value!r}")
    return value


def fetch_export(url: str) -> tuple[str, bytes]:
    """(export URL, body) from a running aw-server; never through a proxy, 10 s timeout."""
    parts = urllib.parse.urlsplit(url)
    if parts.path in ("", "/"):
        url = url.rstrip("/") + EXPORT_PATH
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with opener.open(request, timeout=FETCH_TIMEOUT_S) as resp:
            return url, resp.read()
    except urllib.error.HTTPError as exc:
        raise ImportFormatError(
            url, None, f"aw-server answered HTTP {exc.code} {exc.reason}"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ImportFormatError(
            url, None, f"cannot reach ActivityWatch ({reason}); is aw-server running there?"
        ) from None


class ActivityWatchSource:
    """An aw-server export, parsed once; errors name the line and the JSON path of the record."""

    def __init__(self, source: str) -> None:
        if source.startswith(("http://", "https://")):
            self.name, data = fetch_export(source)
        else:
            self.name = source
            try:
                data = Path(source).read_bytes()
            except OSError as exc:
                raise ImportFormatError(source, None, exc.strerror or str(exc)) from None
        try:
            self.text = data.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ImportFormatError(self.name, line, f"not UTF-8 text ({exc.reason})") from None
        try:
            doc = json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(
                self.name, exc.lineno, f"invalid JSON: {exc.msg} at column {exc.colno}"
            ) from None
        except RecursionError:
            raise ImportFormatError(self.name, None, "JSON nested too deeply") from None
        except ValueError:  # an integer past Python's 4,300 digits
            digits = re.search(r"\d{4301,}", self.text)
            line = self.text.count("\n", 0, digits.start()) + 1 if digits else None
            raise ImportFormatError(self.name, line, "invalid JSON: a number too long") from None
        self._locator = _Locator(self.text)
        self.buckets, self.prefix = self._find_buckets(doc)

    def _find_buckets(self, doc: Any) -> tuple[dict[str, Any], str]:
        top_line = self._locator.line_at(self._locator.top)
        if not isinstance(doc, dict):
            raise ImportFormatError(
                self.name, top_line, "an ActivityWatch export must be a JSON object"
            )
        if "buckets" in doc:
            if not isinstance(doc["buckets"], dict):
                raise ImportFormatError(
                    self.name, top_line, "'buckets' must be an object of buckets", "buckets"
                )
            return doc["buckets"], "buckets"
        if doc and all(isinstance(b, dict) and "events" in b for b in doc.values()):
            return doc, ""
        raise ImportFormatError(
            self.name,
            top_line,
            "no 'buckets' object: not an ActivityWatch export (expected {\"buckets\": {...}})",
        )

    def _where(self, bucket_id: str, index: int | None = None) -> str:
        where = f"{self.prefix}.{bucket_id}" if self.prefix else bucket_id
        return where if index is None else f"{where}.events[{index}]"

    def records(self) -> Iterator[Record]:
        for bucket_id, bucket in self.buckets.items():
            try:
                bucket_type, events = self._bucket(bucket)
            except _BadRecord as exc:
                line = self._locator.line_of(self._path(bucket_id))
                yield ImportFormatError(self.name, line, str(exc), self._where(bucket_id))
                continue
            for i, raw in enumerate(events):
                try:
                    yield _event_from_aw(bucket_id, bucket_type, raw)
                except _BadRecord as exc:
                    line = self._locator.line_of(self._path(bucket_id) + ["events", i])
                    yield ImportFormatError(self.name, line, str(exc), self._where(bucket_id, i))

    def _path(self, bucket_id: str) -> list[str | int]:
        return (["buckets"] if self.prefix else []) + [bucket_id]

    @staticmethod
    def _bucket(bucket: Any) -> tuple[str, list]:
        if not isinstance(bucket, dict):
            raise _BadRecord("a bucket must be a JSON object")
        bucket_type = bucket.get("type")
        if not isinstance(bucket_type, str) or not bucket_type:
            raise _BadRecord(f"bucket has no type (got {bucket_type!r})")
        events = bucket.get("events")
        if not isinstance(events, list):
            raise _BadRecord("bucket has no 'events' list")
        return bucket_type, events


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Locator:
    """Finds where a JSON path starts in the document text, to name its line in errors.

    Walks only down the wanted path and skips everything else with the C decoder.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.top = _WS.match(text, 0).end()
        self._newlines: list[int] | None = None
        self._items: dict[tuple, list[int]] = {}

    def line_at(self, pos: int) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, pos) + 1

    def line_of(self, path: list[str | int]) -> int:
        try:
            return self.line_at(self._find(path))
        except (ValueError, IndexError, KeyError):
            return self.line_at(self.top)

    def _find(self, path: list[str | int]) -> int:
        pos = self.top
        for depth, step in enumerate(path):
            if isinstance(step, int):
                key = tuple(path[:depth])
                if key not in self._items:
                    self._items[key] = list(self._array_items(pos))
                pos = self._items[key][step]
            else:
                pos = next(p for k, p in self._members(pos) if k == step)
        return pos

    def _members(self, i: int) -> Iterator[tuple[str, int]]:
        text = self.text
        if text[i] != "{":
            raise ValueError("not an object")
        i = _WS.match(text, i + 1).end()
        if text[i] == "}":
            return
        while True:
            key, i = _DECODER.raw_decode(text, i)
            i = _WS.match(text, i).end() + 1  # past ':'
            i = _WS.match(text, i).end()
            yield key, i
            i = _WS.match(text, _DECODER.raw_decode(text, i)[1]).end()
            if text[i] != ",":
                return
            i = _WS.match(text, i + 1).end()

    def _array_items(self, i: int) -> Iterator[int]:
        text = self.text
        if text[i] != "[":
            raise ValueError("not an array")
        i = _WS.match(text, i + 1).end()
        if text[i] == "]":
            return
        while True:
            yield i
            i = _WS.match(text, _DECODER.raw_decode(text, i)[1]).end()
            if text[i] != ",":
                return
            i = _WS.match(text, i + 1).end()


register_source("activitywatch", lambda source: ActivityWatchSource(str(source)), "aw")
