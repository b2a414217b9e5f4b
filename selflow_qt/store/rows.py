"""Events as SQLite rows: the one encoding every writer uses (the event writer, imports), and
the imports' lookup of events already stored."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable
from itertools import chain

from peewee import SqliteDatabase

from selflow_qt.core.event import Event
from selflow_qt.store.state import add_to_buffer

_INSERT_HEAD = (
    "INSERT INTO events (ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta, size) "
    "VALUES "
)
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_SQL = _INSERT_HEAD + _ROW
# Rows per statement in insert_rows: sqlite3 lets go of the GIL (and takes it back) once per
# statement step, so one step per 64 rows leaves the other threads alone, and binds no slower.
ROWS_PER_STATEMENT = 64
INSERT_MANY_SQL = _INSERT_HEAD + ", ".join([_ROW] * ROWS_PER_STATEMENT)


def _clean(text: str | None) -> str | None:
    # Undecodable file names arrive as surrogate escapes; store them losslessly as \udcXX-free text.
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _finite(value):
    """``value`` with NaN and infinities replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _unserializable(o):
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _make_meta_encoder() -> Callable[[dict], str]:
    """Compact, non-ASCII-preserving JSON, built once.

    json.dumps (and JSONEncoder.encode) build a new C encoder on every call, which costs more
    than encoding a small dict; the writer encodes one per event, so it keeps one C encoder.
    It has no circular-reference bookkeeping: a meta that contains itself raises RecursionError.
    """
    slow = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    try:
        from json.encoder import c_make_encoder, encode_basestring

        if c_make_encoder is None:
            return slow
        enc = c_make_encoder(
            None, _unserializable, encode_basestring, None, ":", ",", False, False, True
        )
        join = "".join

        def encode(obj: dict) -> str:
            return join(enc(obj, 0))

        probe = {"a": [1, 2.5, None, True, "é", {"b": float("inf")}]}
        return encode if encode(probe) == slow(probe) else slow
    except (ImportError, TypeError):
        return slow


_encode_meta = _make_meta_encoder()


def event_row(ev: Event, _encode=_encode_meta, _clean=_clean) -> tuple:
    """The INSERT_SQL parameters of one event; the last one is its size in bytes (the budget's)."""
    meta = ev.meta
    meta = _encode(meta) if meta else "{}"
    if "NaN" in meta or "Infinity" in meta:  # not JSON: SQLite's json functions would fail
        meta = _encode(_finite(ev.meta))
    if not meta.isascii():
        meta = _clean(meta)
    # The common case (ASCII text) costs one isascii() per field and no function call.
    path, dest, app, cmd, cwd = ev.path, ev.dest, ev.app, ev.cmd, ev.cwd
    size = 96 + len(ev.source) + len(ev.action) + len(meta)
    if path is not None:
        if not path.isascii():
            path = _clean(path)
        size += len(path)
    if dest is not None:
        if not dest.isascii():
            dest = _clean(dest)
        size += len(dest)
    if app is not None:
        if not app.isascii():
            app = _clean(app)
        size += len(app)
    if cmd is not None:
        if not cmd.isascii():
            cmd = _clean(cmd)
        size += len(cmd)
    if cwd is not None:
        if not cwd.isascii():
            cwd = _clean(cwd)
        size += len(cwd)
    return (
        ev.ts,
        ev.tz_offset,
        ev.source,
        ev.action,
        path,
        dest,
        app,
        cmd,
        cwd,
        ev.duration,
        meta,
        size,
    )


# Positions in an event_row tuple.
TS, SOURCE, ACTION, PATH, META, SIZE = 0, 2, 3, 4, 10, 11


def repeats_a_modify(rows: list[tuple]) -> bool:
    """Whether a path has two ``modify`` rows among ``rows`` (only then coalescing pays)."""
    modified = [r[PATH] for r in rows if r[ACTION] == "modify"]
    return len(modified) > 1 and len(set(modified)) < len(modified)


def coalesce_modifies(rows: list[tuple]) -> tuple[list[tuple], int]:
    """Repeated fs ``modify`` rows of one path (with nothing else on that path between them)
    collapsed into the latest one, with ``coalesced: n`` in its meta; and how many went."""
    out: list[tuple] = []
    gone = 0
    last_modify: dict[str, int] = {}  # path -> index in out of its open modify row
    for row in rows:
        path = row[PATH]
        if row[ACTION] == "modify" and row[SOURCE] == "fs" and path:
            i = last_modify.get(path)
            if i is not None:
                prev = out[i]
                count = int(json.loads(prev[META]).get("coalesced", 1)) + 1
                meta = json.loads(row[META])
                meta["coalesced"] = count
                text = _encode_meta(meta)
                out[i] = (*row[:META], text, row[SIZE] - len(row[META]) + len(text))
                gone += 1
                continue
            last_modify[path] = len(out)
        elif path:
            last_modify.pop(path, None)
        out.append(row)
    return out, gone


def insert_events(db: SqliteDatabase, events: Iterable[Event]) -> tuple[int, int]:
    """Insert events with the raw executemany fast path; call inside a transaction.

    Returns (count, bytes) and accounts the bytes in the buffer budget.
    """
    return insert_rows(db, [event_row(ev) for ev in events])


def execute_rows(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """INSERT ``rows`` (from :func:`event_row`) in order, ROWS_PER_STATEMENT to a statement."""
    k = ROWS_PER_STATEMENT
    whole = len(rows) - len(rows) % k
    if whole:
        flat = list(chain.from_iterable(rows[:whole]))
        step = len(rows[0]) * k
        conn.executemany(INSERT_MANY_SQL, [flat[i : i + step] for i in range(0, len(flat), step)])
    if whole < len(rows):
        conn.executemany(INSERT_SQL, rows[whole:])


def insert_rows(db: SqliteDatabase, rows: list[tuple]) -> tuple[int, int]:
    """Insert rows made by :func:`event_row`; call inside a transaction. Returns (count, bytes)."""
    if not rows:
        return 0, 0
    execute_rows(db.connection(), rows)
    nbytes = sum(r[-1] for r in rows)
    add_to_buffer(db, nbytes, len(rows))
    return len(rows), nbytes


class EventDeduper:
    """Finds events that were already in the database before this import began.

    A fingerprint is (ts, source, action, path, cmd, app, duration) as stored; the lookup is
    one join of a temp table against the events' (source, ts) index per chunk.
    """

    def __init__(self, db: SqliteDatabase, last_id: int) -> None:
        self.db = db
        self.last_id = last_id
        db.execute_sql(
            "CREATE TEMP TABLE IF NOT EXISTS import_keys (i INTEGER PRIMARY KEY, ts REAL, "
            "source TEXT, action TEXT, path TEXT, cmd TEXT, app TEXT, duration REAL)"
        )
        db.execute_sql("DELETE FROM import_keys")

    def present(self, batch: list[Event]) -> set[int]:
        keys = []
        for i, ev in enumerate(batch):
            row = event_row(ev)  # the stored form: cleaned text, as the fast path writes it
            keys.append((i, row[0], row[2], row[3], row[4], row[7], row[6], row[9]))
        conn = self.db.connection()
        conn.executemany("INSERT INTO import_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)", keys)
        found = conn.execute(
            "SELECT k.i FROM import_keys k WHERE EXISTS (SELECT 1 FROM events e "
            "WHERE e.source = k.source AND e.ts = k.ts AND e.id <= ? AND e.action = k.action "
            "AND e.path IS k.path AND e.cmd IS k.cmd AND e.app IS k.app "
            "AND e.duration IS k.duration)",
            (self.last_id,),
        ).fetchall()
        conn.execute("DELETE FROM import_keys")
        return {r[0] for r in found}

    def close(self) -> None:
        self.db.execute_sql("DROP TABLE IF EXISTS temp.import_keys")
