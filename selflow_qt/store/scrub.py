"""`selflow db scrub`: today's privacy filter applied after the fact to everything stored.

A rule added later (a `redact_patterns` entry, a new default rule) should reach what was
written before it: the events, every other table's text, the backups, and the files SelFlow
wrote in its data folder (exports, agents' files, logs; see :mod:`selflow_qt.store.scrub_files`).
Each table is rewritten in one transaction; afterwards the WAL is checkpointed and the file
vacuumed (with ``secure_delete`` on) so no freed page keeps an old value.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.rows import event_row

Redact = Callable[[str], str | None]

# The analysis tables, reported on their own line (their text: pattern names, labels, metrics).
ANALYSIS_TABLES = ("patterns", "analysis_runs", "cluster_assignments")
_TEXT_TYPES = ("TEXT", "CHAR", "CLOB", "JSON")


@dataclass
class TableScrub:
    """What scrubbing one database changed: rows per table, events removed as now excluded."""

    rows: dict[str, int] = field(default_factory=dict)
    events_removed: int = 0
    checkpointed: bool = True

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + self.events_removed


def redact_json(value: Any, redact: Redact) -> Any:
    """``value`` with every string in it (dict keys included, at any depth) redacted; the same
    object where nothing changed."""
    if isinstance(value, str):
        new = redact(value)
        return value if new == value else new
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = redact_json(k, redact) if isinstance(k, str) else k
            out[key] = redact_json(v, redact)
        same = len(out) == len(value) and all(k in value and out[k] is value[k] for k in out)
        return value if same else out
    if isinstance(value, list):
        items = [redact_json(v, redact) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def redact_text_value(text: str, redact: Redact) -> str:
    """A stored text: JSON (an object or a list) is redacted string by string and written back
    compactly; anything else as one text."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, (dict, list)):
            new = redact_json(parsed, redact)
            if new is parsed:
                return text
            return json.dumps(new, ensure_ascii=False, separators=(",", ":"))
    new = redact(text)
    return text if new is None else new


def _scrub_events(conn: sqlite3.Connection, flt: PrivacyFilter, report: TableScrub) -> None:
    updates: list[tuple] = []
    removed: list[tuple[int]] = []
    cur = conn.execute(
        "SELECT id, ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta "
        "FROM events"
    )
    for eid, ts, tz, source, action, path, dest, app, cmd, cwd, duration, meta_text in cur:
        try:
            meta = json.loads(meta_text) if meta_text else {}
        except ValueError:
            meta = None
        if not isinstance(meta, dict):  # not an object: scrubbed as text, kept in meta.text
            meta = {"text": meta_text}
        ev = Event(ts, source, action, tz, path, dest, app, cmd, cwd, duration, meta)
        new = flt.apply(ev)
        if new is None:
            removed.append((eid,))
            continue
        if new is ev:  # nothing to redact (the stored text is left byte for byte)
            continue
        row = event_row(new)
        if (row[4], row[5], row[6], row[7], row[8], row[10]) != (
            path,
            dest,
            app,
            cmd,
            cwd,
            meta_text,
        ):
            updates.append((row[4], row[5], row[6], row[7], row[8], row[10], row[11], eid))
    conn.executemany(
        "UPDATE events SET path = ?, dest = ?, app = ?, cmd = ?, cwd = ?, meta = ?, size = ? "
        "WHERE id = ?",
        updates,
    )
    if removed:
        conn.executemany("DELETE FROM events WHERE id = ?", removed)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "cluster_assignments" in tables:
            conn.executemany("DELETE FROM cluster_assignments WHERE event_id = ?", removed)
    report.rows["events"] = len(updates)
    report.events_removed = len(removed)


def _text_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    cols = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return [c[1] for c in cols if any(t in (c[2] or "TEXT").upper() for t in _TEXT_TYPES)]


def _scrub_table(conn: sqlite3.Connection, table: str, redact: Redact) -> int:
    cols = _text_columns(conn, table)
    if not cols:
        return 0
    names = ", ".join(f'"{c}"' for c in cols)
    updates: list[list] = []
    for row in conn.execute(f'SELECT rowid, {names} FROM "{table}"'):
        values = list(row[1:])
        changed = False
        for i, value in enumerate(values):
            if isinstance(value, str) and value:
                new = redact_text_value(value, redact)
                if new != value:
                    values[i], changed = new, True
        if changed:
            updates.append([*values, row[0]])
    if updates:
        sets = ", ".join(f'"{c}" = ?' for c in cols)
        conn.executemany(f'UPDATE "{table}" SET {sets} WHERE rowid = ?', updates)
    return len(updates)


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def scrub_database(path: Path, flt: PrivacyFilter) -> TableScrub:
    """Rewrite every table's text in the SQLite file ``path`` with ``flt``, one transaction per
    table, then checkpoint the WAL and VACUUM so no freed page keeps an old value."""
    report = TableScrub()
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not just unlinked
        for table in _tables(conn):
            conn.execute("BEGIN IMMEDIATE")
            try:
                if table == "events":
                    _scrub_events(conn, flt, report)
                else:
                    report.rows[table] = _scrub_table(conn, table, flt.redact)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        if mode == "wal":
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            report.checkpointed = busy == 0
    finally:
        conn.close()
    return report


__all__ = ["ANALYSIS_TABLES", "TableScrub", "redact_json", "redact_text_value", "scrub_database"]
