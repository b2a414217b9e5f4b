"""`selflow export jsonl`: every stored event in the interchange form, streamed in time order.

After an analysis every event also carries its pattern of the latest completed cycle in
``meta.pattern``: ``{"id": .., "name": ..}``, or null where it has none (noise, an unstable
cluster, or an event the cycle did not see), so a script can check which events made a pattern.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from selflow_qt.store.queries.analysis import latest_patterns_by_event
from selflow_qt.store.queries.events import events_between

if TYPE_CHECKING:
    from peewee import SqliteDatabase


def parse_when(text: str) -> float:
    """Unix seconds from seconds, a date or an ISO 8601 time (times without a zone are local)."""
    try:
        return float(text)
    except ValueError:
        pass
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use Unix seconds, 2024-05-01 or ISO 8601)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.astimezone()  # local time
    return dt.timestamp()


def export_jsonl(
    db: SqliteDatabase,
    out: TextIO,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[int], None] | None = None,
    with_patterns: bool = True,
) -> int:
    """Write events with ``since <= ts < until`` to ``out``, one JSON object a line; the count.

    ``with_patterns`` (and an analysis has completed): each event's pattern of the latest cycle
    goes into ``meta["pattern"]`` as ``{"id": ..., "name": ...}``, null for events without one.
    """
    patterns = latest_patterns_by_event(db) if with_patterns else None
    n = 0
    for rows in events_between(db, since, until):
        lines = []
        for eid, ev in rows:
            if patterns is not None:
                ev.meta["pattern"] = patterns.get(eid)
            lines.append(ev.to_json())
        out.write("\n".join(lines))
        out.write("\n")
        n += len(rows)
        if progress is not None:
            progress(n)
    return n


def export_to(
    db: SqliteDatabase,
    output: str | Path | None,
    since: float | None = None,
    until: float | None = None,
    *,
    with_patterns: bool = True,
) -> int:
    """Export to a file (written whole or not at all, mode 0600) or to stdout for None or '-'."""
    if output is None or str(output) == "-":
        n = export_jsonl(db, sys.stdout, since, until, with_patterns=with_patterns)
        sys.stdout.flush()
        return n
    target = Path(output).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            n = export_jsonl(db, f, since, until, with_patterns=with_patterns)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n
