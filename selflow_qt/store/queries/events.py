"""The events table as its readers see it: one column list, one row decoder, one order.

Every reader of whole events (training, serving, export) and of the analysis columns goes
through here. Rows come back in the one order, time then arrival (``ORDER BY ts, id``); which
events are picked is the caller's choice: the latest in time (training) or the newest written
(serving's stream, the analysis buffer sample, which follow arrival).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from peewee import SqliteDatabase

from selflow_qt.core.event import Event

EVENT_COLUMNS = "id, ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta"
ORDER = "ts, id"  # the one order of events: time, then arrival
NOT_SYSTEM = "source != 'system'"
_MAX_ID = 2**62
_IN_CHUNK = 900  # ids per IN (...) list, under SQLite's variable limit


def decode_meta(text: str | None) -> dict:
    """The stored meta JSON as a dict ({} where empty or unreadable)."""
    try:
        meta = json.loads(text) if text else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def decode(row: Sequence) -> tuple[int, Event]:
    """(id, Event) of one row selected as ``EVENT_COLUMNS``: the one event-row decoder."""
    return row[0], Event(
        ts=row[1],
        tz_offset=row[2] or 0,
        source=row[3],
        action=row[4],
        path=row[5],
        dest=row[6],
        app=row[7],
        cmd=row[8],
        cwd=row[9],
        duration=row[10],
        meta=decode_meta(row[11]),
    )


def _events(db: SqliteDatabase, where: str, params: Sequence = ()) -> list[tuple[int, Event]]:
    sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY {ORDER}"
    return [decode(r) for r in db.execute_sql(sql, tuple(params)).fetchall()]


def _newest(pick_by: str, where: str) -> str:
    """The rows of ``where`` picked newest-first by ``pick_by``, returned in the one order."""
    inner = f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY {pick_by} LIMIT ?"
    return f"SELECT * FROM ({inner}) ORDER BY {ORDER}"


def event_count(db: SqliteDatabase) -> int:
    """Every stored event, system ones included."""
    return int(db.execute_sql("SELECT count(*) FROM events").fetchone()[0])


def last_event_id(db: SqliteDatabase) -> int | None:
    """The id of the event written last (None: no events)."""
    return db.execute_sql("SELECT max(id) FROM events").fetchone()[0]


def events_by_ids(db: SqliteDatabase, ids: Sequence[int]) -> list[Event]:
    """The events with these ids, in the one order."""
    ids = sorted(set(ids))
    out: list[tuple[int, Event]] = []
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i : i + _IN_CHUNK]
        out += _events(db, f"id IN ({','.join('?' * len(chunk))})", chunk)
    out.sort(key=lambda r: (r[1].ts, r[0]))
    return [ev for _, ev in out]


def latest_events(
    db: SqliteDatabase, limit: int, *, workflow: str | None = None, until: float | None = None
) -> list[Event]:
    """The latest ``limit`` non-system events in time (before ``until``; of one demo workflow)."""
    where, params = [NOT_SYSTEM], []
    if workflow:
        where.append("json_extract(meta, '$.workflow') = ?")
        params.append(workflow)
    if until is not None:
        where.append("ts < ?")
        params.append(until)
    sql = _newest("ts DESC, id DESC", " AND ".join(where))
    return [decode(r)[1] for r in db.execute_sql(sql, (*params, int(limit))).fetchall()]


def newest_written(
    db: SqliteDatabase, limit: int, up_to_id: int | None = None
) -> list[tuple[int, Event]]:
    """The ``limit`` non-system events written last (ids up to ``up_to_id``), as (id, Event)."""
    sql = _newest("id DESC", f"{NOT_SYSTEM} AND id <= ?")
    rows = db.execute_sql(sql, (_MAX_ID if up_to_id is None else up_to_id, int(limit)))
    return [decode(r) for r in rows.fetchall()]


def written_after(
    db: SqliteDatabase, after_id: int, *, until_ts: float | None = None, system: bool = False
) -> list[tuple[int, Event]]:
    """Events written after ``after_id`` (up to time ``until_ts``), as (id, Event)."""
    where, params = ["id > ?"], [int(after_id)]
    if not system:
        where.append(NOT_SYSTEM)
    if until_ts is not None:
        where.append("ts <= ?")
        params.append(until_ts)
    return _events(db, " AND ".join(where), params)


def events_between(
    db: SqliteDatabase, since: float | None, until: float | None, chunk: int = 500
) -> Iterator[list[tuple[int, Event]]]:
    """Every event (system ones too) with ``since <= ts < until``, streamed in chunks."""
    cursor = db.connection().execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE ts >= ? AND ts < ? ORDER BY {ORDER}",
        (-1.0 if since is None else since, float("inf") if until is None else until),
    )
    while rows := cursor.fetchmany(chunk):
        yield [decode(r) for r in rows]


ANALYSIS_COLUMNS = "id, ts, tz_offset, source, action, path, dest, app, cmd, cwd"


def analysis_rows(
    db: SqliteDatabase,
    since: float | None = None,
    until: float | None = None,
    *,
    last_n: int | None = None,
    with_truth: bool = True,
) -> list[tuple]:
    """Rows of ``ANALYSIS_COLUMNS`` plus the demo's ``meta.workflow`` (None without
    ``with_truth``) for the analysis's column-wise table: non-system events in [since, until),
    or the ``last_n`` written last, in the one order. Undecoded, for speed on a million rows."""
    where, params = [NOT_SYSTEM], []
    if since is not None:
        where.append("ts >= ?")
        params.append(float(since))
    if until is not None:
        where.append("ts < ?")
        params.append(float(until))
    truth = (
        "CASE WHEN instr(meta, 'workflow') THEN json_extract(meta, '$.workflow') END"
        if with_truth
        else "NULL"
    )
    sql = f"SELECT {ANALYSIS_COLUMNS}, {truth} FROM events WHERE {' AND '.join(where)}"
    if last_n is not None:
        sql = f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT {int(last_n)})"
    return db.execute_sql(f"{sql} ORDER BY {ORDER}", params).fetchall()
