"""Small persistent state in kv_state: the buffer budget's fill and friends."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from peewee import SqliteDatabase

BUFFER_KEY = "buffer"


def kv_get(db: SqliteDatabase, key: str, default: Any = None) -> Any:
    row = db.execute_sql('SELECT value FROM kv_state WHERE "key" = ?', (key,)).fetchone()
    if row is None or row[0] is None:
        return default
    return json.loads(row[0])


def kv_set(db: SqliteDatabase, key: str, value: Any) -> None:
    db.execute_sql(
        'INSERT INTO kv_state ("key", value, updated_at) VALUES (?, ?, ?) '
        'ON CONFLICT("key") DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        (key, json.dumps(value), time.time()),
    )


@dataclass
class BufferFill:
    """How much new data the current analysis cycle has gathered."""

    bytes: int
    events: int
    budget_bytes: int
    cycle_started: float

    @property
    def ratio(self) -> float:
        return self.bytes / self.budget_bytes if self.budget_bytes > 0 else 0.0

    @property
    def percent(self) -> float:
        return 100.0 * self.ratio


def buffer_fill(db: SqliteDatabase, budget_bytes: int) -> BufferFill:
    v = kv_get(db, BUFFER_KEY) or {}
    return BufferFill(
        bytes=int(v.get("bytes", 0)),
        events=int(v.get("events", 0)),
        budget_bytes=int(budget_bytes),
        cycle_started=float(v.get("cycle_started", 0.0)),
    )


def add_to_buffer(db: SqliteDatabase, nbytes: int, nevents: int) -> None:
    """Account new bytes; call inside the writer's transaction so fill and events agree."""
    db.execute_sql(
        'INSERT INTO kv_state ("key", value, updated_at) VALUES (?, json_object('
        "'bytes', ?, 'events', ?, 'cycle_started', ?), ?) "
        'ON CONFLICT("key") DO UPDATE SET value = json_object('
        "'bytes', coalesce(json_extract(value, '$.bytes'), 0) + ?, "
        "'events', coalesce(json_extract(value, '$.events'), 0) + ?, "
        "'cycle_started', coalesce(json_extract(value, '$.cycle_started'), ?)), updated_at = ?",
        (
            BUFFER_KEY,
            nbytes,
            nevents,
            time.time(),
            time.time(),
            nbytes,
            nevents,
            time.time(),
            time.time(),
        ),
    )


def reset_buffer(db: SqliteDatabase) -> None:
    """Start a new cycle's buffer (the analysis cycle calls this); events stay in the database."""
    kv_set(db, BUFFER_KEY, {"bytes": 0, "events": 0, "cycle_started": time.time()})
