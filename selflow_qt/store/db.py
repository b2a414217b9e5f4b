"""Opening the database: pragmas, permissions, schema version and migrations."""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.store import models
from selflow_qt.store.backup import (
    CHECK_KEY,
    FULL_CHECK_MAX_BYTES,
    check_on_open,
    damaged_error,
)
from selflow_qt.store.models import ALL_MODELS, FEATURE_MODELS, database_proxy

DB_FILENAME = "selflow.db"
PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",  # durable across process crashes in WAL mode
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "cache_size": -16_000,
    "temp_store": "memory",
}

# Version 1: the first released schema (events without size, the five core tables).
V1_SQL = [
    'CREATE TABLE IF NOT EXISTS "events" ("id" INTEGER NOT NULL PRIMARY KEY, "ts" REAL NOT NULL, '
    '"tz_offset" INTEGER NOT NULL, "source" VARCHAR(16) NOT NULL, "action" VARCHAR(32) NOT NULL, '
    '"path" TEXT, "dest" TEXT, "app" TEXT, "cmd" TEXT, "cwd" TEXT, "duration" REAL, '
    '"meta" TEXT NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "events_ts" ON "events" ("ts")',
]


def _migrate_1(db: SqliteDatabase) -> None:
    for sql in V1_SQL:
        db.execute_sql(sql)
    db.create_tables(
        [models.Pattern, models.MicroAgent, models.TrainingSession, models.UserInteraction],
        safe=True,
    )


def _migrate_2(db: SqliteDatabase) -> None:
    cols = {c.name for c in db.get_columns("events")}
    if "size" not in cols:
        db.execute_sql('ALTER TABLE "events" ADD COLUMN "size" INTEGER NOT NULL DEFAULT 0')
        # Old rows: account the bytes they would serialize to (approximately, from their columns).
        db.execute_sql(
            "UPDATE \"events\" SET \"size\" = 120 + length(coalesce(path,'')) + length(coalesce(dest,''))"
            " + length(coalesce(app,'')) + length(coalesce(cmd,'')) + length(coalesce(cwd,''))"
            " + length(meta)"
        )
    db.create_tables([models.KeyValue, models.CollectorStatus, models.Notification], safe=True)
    db.execute_sql('CREATE INDEX IF NOT EXISTS "events_source_ts" ON "events" ("source", "ts")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "events_action_ts" ON "events" ("action", "ts")')


# Append-only. Each step must be idempotent and bring version N-1 to N, so old databases open.
MIGRATIONS: list[Callable[[SqliteDatabase], None]] = [_migrate_1, _migrate_2]


def schema_version() -> int:
    return len(MIGRATIONS)


def db_path_for(data_dir: Path) -> Path:
    return Path(data_dir) / DB_FILENAME


def _secure(path: Path) -> None:
    for p in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
        try:
            if p.exists():
                os.chmod(p, 0o600)
        except OSError:
            pass


def _record_check(path: Path) -> None:
    """Remember when the whole file was last checked (big files are then checked daily)."""
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            with conn:
                conn.execute(
                    "UPDATE kv_state SET value = ?, updated_at = ? WHERE key = ?",
                    (str(time.time()), time.time(), CHECK_KEY),
                )
                conn.execute(
                    "INSERT OR IGNORE INTO kv_state (key, value, updated_at) VALUES (?, ?, ?)",
                    (CHECK_KEY, str(time.time()), time.time()),
                )
        finally:
            conn.close()
    except sqlite3.Error:  # no kv_state yet (a new or old database): checked again next time
        pass


def connect(path: Path) -> SqliteDatabase:
    """A Peewee database on ``path`` with SelFlow's pragmas (connections are per thread)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False)
    db.connect(reuse_if_open=True)
    return db


def migrate(db: SqliteDatabase) -> int:
    """Bring the schema to the current version; returns the version it was at before."""
    before = db.execute_sql("PRAGMA user_version").fetchone()[0]
    if before > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {before} is newer than this SelFlow ({len(MIGRATIONS)}); "
            "upgrade SelFlow to open it"
        )
    for version in range(before + 1, len(MIGRATIONS) + 1):
        with db.atomic(), db.bind_ctx(ALL_MODELS):
            MIGRATIONS[version - 1](db)
            db.execute_sql(f"PRAGMA user_version = {version}")
    database_proxy.initialize(db)
    db.create_tables(FEATURE_MODELS, safe=True)
    return before


def _last_full_check(path: Path) -> float | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM kv_state WHERE key = ?", (CHECK_KEY,)).fetchone()
        finally:
            conn.close()
        return float(row[0]) if row else None
    except (sqlite3.Error, ValueError, TypeError):
        return None


def _read_only(folder: Path) -> bool:
    """The folder's file system is mounted read-only, or this user may not write there."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return False
    return not os.access(folder, os.W_OK)


def open_database(data_dir: Path, check: bool = True) -> SqliteDatabase:
    """Open (creating or upgrading) the database in ``data_dir`` and bind the models to it.

    A damaged file raises :class:`~selflow_qt.store.errors.DatabaseDamaged` (whose message
    says how to restore or recover) before anything is written to it.
    """
    path = db_path_for(data_dir)
    if path.exists() and _read_only(path.parent):  # not damaged: SQLite cannot open its WAL
        raise OSError(errno.EROFS, "Read-only file system", str(path.parent))
    if check and path.exists():
        result = check_on_open(path, _last_full_check(path))
        if not result.ok:
            raise damaged_error(result)
        if result.full and path.stat().st_size > FULL_CHECK_MAX_BYTES:
            _record_check(path)
    db = connect(path)
    database_proxy.initialize(db)
    migrate(db)
    _secure(path)
    return db


__all__ = ["ALL_MODELS", "open_database", "connect", "migrate", "db_path_for"]
