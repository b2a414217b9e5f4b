"""The event: one thing the user did, and its JSON Lines interchange form."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

SOURCES = ("fs", "app", "shell", "aw", "system")
FIELDS = (
    "ts",
    "tz_offset",
    "source",
    "action",
    "path",
    "dest",
    "app",
    "cmd",
    "cwd",
    "duration",
    "meta",
)
_STR_FIELDS = ("path", "dest", "app", "cmd", "cwd")
_FRACTION = re.compile(r"\.(\d+)")
MAX_TS = 253402300800.0  # 10000-01-01: beyond it local-time conversions overflow
# Input limits: a longer text field is cut (meta "truncated" names it), deeper meta is refused.
MAX_FIELD_CHARS = 64 * 1024
MAX_META_CHARS = 256 * 1024
MAX_DEPTH = 16


class EventFormatError(ValueError):
    """An input record that is not a valid event; the message says what is wrong."""


def local_tz_offset(ts: float | None = None) -> int:
    """The local UTC offset in minutes at Unix time ``ts`` (now if None)."""
    t = time.time() if ts is None else ts
    off = datetime.fromtimestamp(t).astimezone().utcoffset()
    return int(off.total_seconds() // 60) if off is not None else 0


@dataclass(slots=True)
class Event:
    ts: float
    source: str
    action: str
    tz_offset: int = 0
    path: str | None = None
    dest: str | None = None
    app: str | None = None
    cmd: str | None = None
    cwd: str | None = None
    duration: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def now(cls, source: str, action: str, **kw: Any) -> Event:
        ts = time.time()
        return cls(ts=ts, source=source, action=action, tz_offset=local_tz_offset(ts), **kw)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def size(self) -> int:
        """Serialized size in bytes: what the buffer budget accounts."""
        return len(self.to_json().encode("utf-8", "surrogateescape"))


def parse_ts(value: Any) -> float:
    """Unix seconds from a number or an ISO 8601 string (naive strings are taken as UTC)."""
    if isinstance(value, bool):
        raise EventFormatError(f"ts must be a number or ISO 8601 string, got {value!r}")
    if isinstance(value, (int, float)):
        ts = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Any number of fraction digits (aw-server-rust writes nanoseconds): exactly six,
        # which every supported Python's fromisoformat reads.
        text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise EventFormatError(f"ts is not ISO 8601: {value!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        ts = dt.timestamp()
    else:
        raise EventFormatError(
            f"ts must be a number or ISO 8601 string, got {type(value).__name__}"
        )
    if not math.isfinite(ts) or ts < 0 or ts >= MAX_TS:
        raise EventFormatError(f"ts out of range: {value!r}")
    return ts


def event_from_dict(d: Any) -> Event:
    """Validate one decoded interchange record; raises EventFormatError naming the problem."""
    if not isinstance(d, dict):
        raise EventFormatError(f"expected a JSON object, got {type(d).__name__}")
    unknown = set(d) - set(FIELDS)
    if unknown:
        raise EventFormatError(f"unknown keys: {', '.join(sorted(unknown))}")
    for key in ("ts", "source", "action"):
        if d.get(key) is None:
            raise EventFormatError(f"missing required key {key!r}")
    source, action = d["source"], d["action"]
    if not isinstance(source, str) or source not in SOURCES:
        raise EventFormatError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if not isinstance(action, str) or not action:
        raise EventFormatError(f"action must be a non-empty string, got {action!r}")
    for key in _STR_FIELDS:
        if d.get(key) is not None and not isinstance(d[key], str):
            raise EventFormatError(f"{key} must be a string or null")
    ts = parse_ts(d["ts"])
    tz = d.get("tz_offset")
    if tz is None:
        tz = local_tz_offset(ts)
    elif isinstance(tz, bool) or not isinstance(tz, (int, float)) or abs(tz) > 24 * 60:
        raise EventFormatError(f"tz_offset must be minutes within a day, got {tz!r}")
    dur = d.get("duration")
    if dur is not None and (
        isinstance(dur, bool) or not isinstance(dur, (int, float)) or not 0 <= dur < math.inf
    ):
        raise EventFormatError(f"duration must be a non-negative number, got {dur!r}")
    meta = d.get("meta") or {}
    if not isinstance(meta, dict):
        raise EventFormatError("meta must be a JSON object")
    check_meta(meta)
    return clip_event(
        Event(
            ts=ts,
            tz_offset=int(tz),
            source=source,
            action=action,
            path=d.get("path"),
            dest=d.get("dest"),
            app=d.get("app"),
            cmd=d.get("cmd"),
            cwd=d.get("cwd"),
            duration=None if dur is None else float(dur),
            meta=meta,
        )
    )


def check_meta(meta: dict) -> None:
    """Refuse meta nested deeper than MAX_DEPTH or holding NaN/Infinity (SQLite's JSON
    functions call such text malformed, which would break every later analysis)."""
    stack: list[tuple[Any, int]] = [(meta, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            items = value.values()
        elif isinstance(value, list):
            items = value
        elif isinstance(value, float) and not math.isfinite(value):
            raise EventFormatError("meta holds NaN or Infinity, which JSON does not allow")
        else:
            continue
        if depth > MAX_DEPTH:
            raise EventFormatError(f"meta is nested deeper than {MAX_DEPTH} levels")
        stack.extend((v, depth + 1) for v in items)


def clip_event(ev: Event) -> Event:
    """``ev`` with every text field cut to MAX_FIELD_CHARS; the cut fields are listed in meta
    ``truncated`` (with their original lengths), so nothing is silently shortened."""
    # Every event passes here before the privacy filter: the common case (nothing to cut) is
    # answered by attribute reads alone, without building a dict per event.
    limit, meta = MAX_FIELD_CHARS, ev.meta
    if (
        (ev.path is None or len(ev.path) <= limit)
        and (ev.dest is None or len(ev.dest) <= limit)
        and (ev.app is None or len(ev.app) <= limit)
        and (ev.cmd is None or len(ev.cmd) <= limit)
        and (ev.cwd is None or len(ev.cwd) <= limit)
    ):
        if not meta or len(meta) >= 4096:
            return ev
        for v in meta.values():
            if isinstance(v, str) and len(v) > limit:
                break
        else:
            return ev
    cut: dict[str, int] = {}
    changes: dict[str, Any] = {}
    for name in _STR_FIELDS:
        text = getattr(ev, name)
        if text is not None and len(text) > MAX_FIELD_CHARS:
            cut[name] = len(text)
            changes[name] = text[:MAX_FIELD_CHARS]
    meta = ev.meta
    if meta and len(meta) < 4096:
        big = [k for k, v in meta.items() if isinstance(v, str) and len(v) > MAX_FIELD_CHARS]
        if big:
            meta = dict(meta)
            for k in big:
                cut[f"meta.{k}"] = len(meta[k])
                meta[k] = meta[k][:MAX_FIELD_CHARS]
    if not cut:
        return ev
    changes["meta"] = {**meta, "truncated": cut}
    return replace(ev, **changes)


def _no_constants(name: str) -> Any:
    raise EventFormatError(f"{name} is not allowed in JSON (numbers must be finite)")


def event_from_json(line: str) -> Event:
    try:
        obj = json.loads(line, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise EventFormatError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise EventFormatError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    return event_from_dict(obj)
