"""What the file collector already recorded: the newest committed fs event per path.

The collector's restart catch-up asks this before it reports a difference between its snapshot
and the disk, so a change recorded live (committed after the snapshot was saved) is not
reported a second time. Plain data in, plain data out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from peewee import SqliteDatabase

_IN_CHUNK = 400  # paths per IN (...) list; each path is bound twice (path, dest)


@dataclass(frozen=True, slots=True)
class RecordedChange:
    """The newest committed fs event that touched one path, as the path's last known state."""

    ts: float
    action: str  # the event's action (create, modify, delete, move)
    exists: bool  # whether that event left the path present (a move's source: gone)


def newest_fs_changes(
    db: SqliteDatabase, paths: Iterable[str], since: float, until: float = float("inf")
) -> dict[str, RecordedChange]:
    """Per path, the newest fs event in [since, until) naming it as path or move destination.

    Paths with no such event are absent. Ties in time go to the later row (arrival order).
    """
    wanted = sorted(set(paths))
    out: dict[str, tuple[float, int, RecordedChange]] = {}
    for i in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[i : i + _IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute_sql(
            "SELECT id, ts, action, path, dest FROM events WHERE source = 'fs'"
            f" AND ts >= ? AND ts < ? AND (path IN ({marks}) OR dest IN ({marks}))",
            (since, until, *chunk, *chunk),
        ).fetchall()
        want = set(chunk)
        for row_id, ts, action, path, dest in rows:
            for p, exists in ((path, action != "delete" and action != "move"), (dest, True)):
                if p is None or p not in want:
                    continue
                prev = out.get(p)
                if prev is None or (ts, row_id) > (prev[0], prev[1]):
                    out[p] = (ts, row_id, RecordedChange(ts, action, exists))
    return {p: v[2] for p, v in out.items()}
