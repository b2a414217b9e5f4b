"""Salvaging a damaged database: every row that can still be read goes into a fresh one.

The damaged file is moved aside (never deleted); rows are copied table by table in rowid ranges,
and a range that fails to read is split until the bad rows are isolated and skipped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from selflow_qt.store.backup import move_aside
from selflow_qt.store.db import db_path_for, open_database

CHUNK = 2_000
MIN_SPLIT = 16
_MAX_SCAN_ROWID = 1 << 40


@dataclass
class RecoveryReport:
    damaged_copy: str
    rows: dict[str, int] = field(default_factory=dict)
    lost_ranges: dict[str, int] = field(default_factory=dict)  # table -> unreadable ranges
    unreadable_tables: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        parts = [f"{t} {n}" for t, n in self.rows.items() if n]
        text = f"recovered {self.total} rows ({', '.join(parts) or 'none'})"
        lost = sum(self.lost_ranges.values())
        if lost:
            tables = ", ".join(t for t, n in self.lost_ranges.items() if n)
            text += f"; damaged parts of {tables} could not be read (their rows are lost)"
        if self.unreadable_tables:
            text += f"; unreadable tables: {', '.join(self.unreadable_tables)}"
        return text + f"; the damaged file is kept as {self.damaged_copy}"


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _scan_limit(path: Path) -> int:
    """An upper bound on the rowids a file can hold (every row takes some bytes)."""
    try:
        return max(CHUNK, path.stat().st_size // 8)
    except OSError:
        return _MAX_SCAN_ROWID


def _max_rowid(src: sqlite3.Connection, table: str) -> int:
    try:
        value = src.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
        return int(value or 0)
    except sqlite3.DatabaseError:
        return _MAX_SCAN_ROWID


def _copy_range(src, dst, table, cols, lo, hi, report) -> int:
    """Copy rowids lo..hi; an unreadable range is halved until it is at most MIN_SPLIT rowids,
    which are then skipped (counted as one unreadable range)."""
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    try:
        rows = src.execute(
            f'SELECT {names} FROM "{table}" WHERE rowid BETWEEN ? AND ?', (lo, hi)
        ).fetchall()
    except sqlite3.DatabaseError:
        if hi - lo < MIN_SPLIT:
            report.lost_ranges[table] = report.lost_ranges.get(table, 0) + 1
            return 0
        mid = (lo + hi) // 2
        return _copy_range(src, dst, table, cols, lo, mid, report) + _copy_range(
            src, dst, table, cols, mid + 1, hi, report
        )
    dst.executemany(f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})', rows)
    return len(rows)


def recover_database(data_dir: Path) -> RecoveryReport:
    """Move the damaged database aside and rebuild it from every readable row."""
    db_path = db_path_for(data_dir)
    aside = move_aside(db_path)
    report = RecoveryReport(damaged_copy=str(aside))
    open_database(data_dir).close()  # a fresh database with the current schema
    readable = _padded_copy(aside)
    dst = sqlite3.connect(db_path)
    try:
        # immutable: no -shm/-wal next to the damaged file, no locking, nothing written to it
        src = sqlite3.connect(f"file:{readable}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        dst.close()
        report.unreadable_tables.append("(the whole file)")
        return report
    try:
        tables = [
            r[0]
            for r in dst.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        ]
        for table in tables:
            try:
                old = set(_columns(src, table))
            except sqlite3.DatabaseError:
                report.unreadable_tables.append(table)
                continue
            cols = [c for c in _columns(dst, table) if c in old]
            if not cols:
                continue
            top = _max_rowid(src, table)
            copied, lo, empty_run = 0, 0, 0
            while lo <= top:
                lost_before = report.lost_ranges.get(table, 0)
                n = _copy_range(src, dst, table, cols, lo, lo + CHUNK - 1, report)
                copied += n
                lo += CHUNK
                clean_empty = not n and report.lost_ranges.get(table, 0) == lost_before
                empty_run = empty_run + 1 if clean_empty else 0
                if top == _MAX_SCAN_ROWID and (empty_run > 50 or lo > _scan_limit(readable)):
                    break  # no usable max(rowid): stop after a stretch of nothing
            report.rows[table] = copied
        dst.commit()
    finally:
        src.close()
        dst.close()
        if readable != aside:
            readable.unlink(missing_ok=True)
    return report


def _padded_copy(path: Path) -> Path:
    """A truncated file is read through a copy padded with zero pages to the size its header
    records, so SQLite reads every page that survived; an intact-size file is used as it is."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(100)
    except OSError:
        return path
    if len(head) < 100:
        return path
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    if page < 512 or page & (page - 1) or not pages or size >= pages * page:
        return path
    copy = path.with_name(path.name + ".padded")
    fd = os.open(copy, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, path.open("rb") as src:
        shutil.copyfileobj(src, out)
        out.truncate(pages * page)
    return copy
