"""Salvaging a damaged database: every row that can still be read goes into a fresh one.

The damaged file is moved aside (never deleted); rows are copied table by table in rowid ranges,
and a range that fails to read is split until the bad rows are isolated and skipped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from selflow_qt.store.backup import move_aside
from selflow_qt.store.db import db_path_for, open_database

CHUNK = 2_000
_MAX_SCAN_ROWID = 1 << 40


@dataclass
class RecoveryReport:
    damaged_copy: str
    rows: dict[str, int] = field(default_factory=dict)
    lost_ranges: dict[str, int] = field(default_factory=dict)  # table -> unreadable rowids
    unreadable_tables: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        parts = [f"{t} {n}" for t, n in self.rows.items() if n]
        text = f"recovered {self.total} rows ({', '.join(parts) or 'none'})"
        lost = sum(self.lost_ranges.values())
        if lost:
            text += f"; {lost} unreadable rows skipped"
        if self.unreadable_tables:
            text += f"; unreadable tables: {', '.join(self.unreadable_tables)}"
        return text + f"; the damaged file is kept as {self.damaged_copy}"


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _max_rowid(src: sqlite3.Connection, table: str) -> int:
    try:
        value = src.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
        return int(value or 0)
    except sqlite3.DatabaseError:
        return _MAX_SCAN_ROWID


def _copy_range(src, dst, table, cols, lo, hi, report) -> int:
    """Copy rowids lo..hi; an unreadable range is halved until single rows are skipped."""
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    try:
        rows = src.execute(
            f'SELECT {names} FROM "{table}" WHERE rowid BETWEEN ? AND ?', (lo, hi)
        ).fetchall()
    except sqlite3.DatabaseError:
        if lo == hi:
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
    dst = sqlite3.connect(db_path)
    try:
        src = sqlite3.connect(f"file:{aside}?mode=ro", uri=True)
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
                n = _copy_range(src, dst, table, cols, lo, lo + CHUNK - 1, report)
                copied += n
                lo += CHUNK
                empty_run = 0 if n else empty_run + 1
                if top == _MAX_SCAN_ROWID and empty_run > 500:
                    break  # no usable max(rowid): stop after a long stretch of nothing
            report.rows[table] = copied
        dst.commit()
    finally:
        src.close()
        dst.close()
    return report
