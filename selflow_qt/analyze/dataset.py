"""The events of one analysis cycle, loaded column-wise from SQLite (plain lists and numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from peewee import SqliteDatabase

from selflow_qt.store.queries.events import analysis_rows


@dataclass
class EventTable:
    """Events in time order; ``workflow`` is ``meta["workflow"]`` where present (demo truth)."""

    ids: np.ndarray  # int64
    ts: np.ndarray  # float64, Unix seconds
    tz_offset: np.ndarray  # int32, minutes
    source: list[str]
    action: list[str]
    path: list[str | None]
    dest: list[str | None]
    app: list[str | None]
    cmd: list[str | None]
    cwd: list[str | None]
    workflow: list[str | None]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx: np.ndarray) -> EventTable:
        """A sub-table of the rows ``idx`` (kept in the given order)."""
        pick = [int(i) for i in idx]

        def sel(col: list) -> list:
            return [col[i] for i in pick]

        return EventTable(
            ids=self.ids[idx],
            ts=self.ts[idx],
            tz_offset=self.tz_offset[idx],
            source=sel(self.source),
            action=sel(self.action),
            path=sel(self.path),
            dest=sel(self.dest),
            app=sel(self.app),
            cmd=sel(self.cmd),
            cwd=sel(self.cwd),
            workflow=sel(self.workflow),
        )

    def local_hours(self) -> np.ndarray:
        """Local hour of day as a float in [0, 24)."""
        return ((self.ts + self.tz_offset * 60.0) % 86_400.0) / 3_600.0

    def local_weekday(self) -> np.ndarray:
        """Local weekday, Monday = 0 (Unix day 0 was a Thursday)."""
        days = np.floor((self.ts + self.tz_offset * 60.0) / 86_400.0).astype(np.int64)
        return ((days + 3) % 7).astype(np.int32)


def load_events(
    db: SqliteDatabase,
    since: float | None = None,
    until: float | None = None,
    *,
    last_n: int | None = None,
    with_truth: bool = True,
) -> EventTable:
    """Events (not ``system`` ones) in [since, until), ordered by time; or the newest ``last_n``.

    ``workflow`` is read from ``meta["workflow"]`` (the demo's truth) when ``with_truth``.
    """
    rows = analysis_rows(db, since, until, last_n=last_n, with_truth=with_truth)
    if not rows:
        cols: list[tuple] = [()] * 11
    else:
        cols = list(zip(*rows, strict=True))
    return EventTable(
        ids=np.asarray(cols[0], dtype=np.int64),
        ts=np.asarray(cols[1], dtype=np.float64),
        tz_offset=np.asarray(cols[2], dtype=np.int32),
        source=list(cols[3]),
        action=list(cols[4]),
        path=list(cols[5]),
        dest=list(cols[6]),
        app=list(cols[7]),
        cmd=list(cols[8]),
        cwd=list(cols[9]),
        workflow=[m if isinstance(m, str) else None for m in cols[10]],
    )
