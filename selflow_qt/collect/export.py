"""`selflow export jsonl`: every stored event in the interchange form, streamed in time order.

After an analysis every event also carries its pattern of the latest completed cycle in
``meta.pattern``: ``{"id": .., "name": ..}``, or null where it has none (noise, an unstable
cluster, or an event the cycle did not see), so a script can check which events made a pattern.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from selflow_qt.core.event import Event

if TYPE_CHECKING:
    from peewee import SqliteDatabase

SELECT_SQL = (
    "SELECT ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta, id "
    "FROM events WHERE ts >= ? AND ts < ? ORDER BY ts, id"
)
LATEST_RUN_SQL = (
    "SELECT id FROM analysis_runs WHERE status = 'completed' ORDER BY completed_at DESC, id DESC "
    "LIMIT 1"
)
RUN_PATTERNS_SQL = (
    "SELECT id, name, json_extract(metadata, '$.cluster_label') FROM patterns "
    "WHERE json_extract(metadata, '$.last_run_id') = ?"
)
RUN_LABELS_SQL = "SELECT event_id, consensus FROM cluster_assignments WHERE run = ?"


def latest_patterns(db: SqliteDatabase) -> dict[int, dict] | None:
    """event id -> {"id", "name"} of its pattern in the latest completed analysis cycle; None
    before the first one.

    Events the cycle left in noise, in an unstable cluster or did not see are absent.
    """
    row = db.execute_sql(LATEST_RUN_SQL).fetchone()
    if row is None:
        return None
    run = int(row[0])
    by_label = {
        int(label): {"id": int(pid), "name": name}
        for pid, name, label in db.execute_sql(RUN_PATTERNS_SQL, (run,)).fetchall()
        if label is not None
    }
    if not by_label:
        return {}
    return {
        int(eid): by_label[int(lab)]
        for eid, lab in db.execute_sql(RUN_LABELS_SQL, (run,)).fetchall()
        if lab is not None and int(lab) in by_label
    }


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
    patterns = latest_patterns(db) if with_patterns else None
    cursor = db.connection().execute(
        SELECT_SQL,
        (-1.0 if since is None else since, float("inf") if until is None else until),
    )
    n = 0
    while True:
        rows = cursor.fetchmany(500)
        if not rows:
            break
        lines = []
        for ts, tz, source, action, path, dest, app, cmd, cwd, duration, meta, eid in rows:
            meta = json.loads(meta) if meta else {}
            if patterns is not None:
                meta["pattern"] = patterns.get(eid)
            ev = Event(
                ts=ts,
                tz_offset=tz,
                source=source,
                action=action,
                path=path,
                dest=dest,
                app=app,
                cmd=cmd,
                cwd=cwd,
                duration=duration,
                meta=meta,
            )
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
