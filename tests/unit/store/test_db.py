"""The database: upgrades from older schemas, refuses newer ones, stays private, runs in WAL."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from selflow_qt.cli import main
from selflow_qt.core.event import Event
from selflow_qt.core.settings import resolve_data_dir
from selflow_qt.store import db as store_db
from selflow_qt.store.db import (
    ALL_MODELS,
    V1_SQL,
    connect,
    db_path_for,
    open_database,
    schema_version,
)
from selflow_qt.store.models import database_proxy
from selflow_qt.store.writer import insert_events


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def build_v1(data_dir: Path) -> Path:
    """A database exactly as version 1 wrote it, with two events and a pattern."""
    path = db_path_for(data_dir)
    con = sqlite3.connect(path)
    for sql in V1_SQL:
        con.execute(sql)
    con.execute(
        'CREATE TABLE "patterns" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, '
        '"pattern_type" VARCHAR(32) NOT NULL, "confidence" REAL NOT NULL, '
        '"event_count" INTEGER NOT NULL, "first_seen" REAL NOT NULL, "last_seen" REAL NOT NULL, '
        '"clustering_method" VARCHAR(32) NOT NULL, "metadata" JSON NOT NULL)'
    )
    con.executemany(
        "INSERT INTO events (ts, tz_offset, source, action, path, cmd, meta) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (1_600_000_000.0, 120, "fs", "create", "/w/report.md", None, "{}"),
            (1_600_000_060.0, 120, "shell", "command", None, "make test", '{"shell":"bash"}'),
        ],
    )
    con.execute(
        "INSERT INTO patterns (name, pattern_type, confidence, event_count, first_seen, "
        "last_seen, clustering_method, metadata) VALUES ('coding', 'workflow', 0.8, 2, 1, 2, "
        "'consensus', '{}')"
    )
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    return path


def test_version_1_database_is_upgraded_with_rows_intact(data_dir: Path) -> None:
    path = build_v1(data_dir)
    db = open_database(data_dir)
    try:
        assert db.execute_sql("PRAGMA user_version").fetchone()[0] == schema_version() >= 2
        rows = db.execute_sql(
            "SELECT ts, tz_offset, source, action, path, cmd, meta, size FROM events ORDER BY id"
        ).fetchall()
        assert [r[:7] for r in rows] == [
            (1_600_000_000.0, 120, "fs", "create", "/w/report.md", None, "{}"),
            (1_600_000_060.0, 120, "shell", "command", None, "make test", '{"shell":"bash"}'),
        ]
        assert all(r[7] > 0 for r in rows)  # v2's size column, accounted for old rows
        tables = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"kv_state", "collector_status", "notifications"} <= tables  # added by v2
        indexes = {r[1] for r in db.execute_sql("PRAGMA index_list('events')")}
        assert {"events_source_ts", "events_action_ts"} <= indexes
        assert db.execute_sql("SELECT name FROM patterns").fetchall() == [("coding",)]
        with db.atomic():  # and new events go in next to the old ones
            insert_events(
                db, [Event(ts=1_700_000_000.0, source="fs", action="modify", path="/w/x")]
            )
        assert db.execute_sql("SELECT count(*) FROM events").fetchone()[0] == 3
    finally:
        db.close()
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_v1_built_with_the_first_migration_opens(data_dir: Path) -> None:
    db = connect(db_path_for(data_dir))
    database_proxy.initialize(db)  # as open_database does before migrating
    store_db._migrate_1(db)
    db.execute_sql("PRAGMA user_version = 1")
    db.execute_sql(
        "INSERT INTO events (ts, tz_offset, source, action, meta) VALUES (1.5, 0, 'system', 'x', '{}')"
    )
    db.close()
    db = open_database(data_dir)
    try:
        assert db.execute_sql("PRAGMA user_version").fetchone()[0] == schema_version()
        assert db.execute_sql("SELECT ts, action FROM events").fetchall() == [(1.5, "x")]
        tables = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {m._meta.table_name for m in ALL_MODELS} <= tables
    finally:
        db.close()


def test_database_newer_than_the_code_is_refused_untouched(data_dir: Path) -> None:
    path = db_path_for(data_dir)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE future (x)")
    con.execute(f"PRAGMA user_version = {schema_version() + 5}")
    con.commit()
    con.close()
    with pytest.raises(RuntimeError, match=r"newer than this SelFlow.*upgrade SelFlow"):
        open_database(data_dir)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == schema_version() + 5
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["future"]
    con.close()


def test_cli_reports_a_newer_database_clearly(data_dir: Path, capsys) -> None:
    con = sqlite3.connect(db_path_for(data_dir))
    con.execute(f"PRAGMA user_version = {schema_version() + 1}")
    con.close()
    assert main(["export", "jsonl"]) == 2
    assert "newer than this SelFlow" in capsys.readouterr().err


def test_folder_is_0700_and_files_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        data_dir = resolve_data_dir(tmp_path / "fresh" / "selflow")
        db = open_database(data_dir)
        with db.atomic():
            insert_events(db, [Event(ts=1.7e9, source="fs", action="create", path="/w/a")])
        wal = Path(str(db_path_for(data_dir)) + "-wal")
        assert wal.exists()
        assert mode(data_dir) == 0o700
        assert mode(db_path_for(data_dir)) == 0o600
        assert mode(wal) == 0o600
        db.close()
    finally:
        os.umask(old)


def test_existing_loose_folder_is_tightened(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    assert mode(resolve_data_dir(loose)) == 0o700


def test_wal_mode_is_on(data_dir: Path) -> None:
    db = open_database(data_dir)
    try:
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
    con = sqlite3.connect(db_path_for(data_dir))  # persistent: any new connection sees it
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_data_dir_from_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SELFLOW_DATA_DIR", str(tmp_path / "from-env"))
    assert resolve_data_dir() == (tmp_path / "from-env").resolve()
    assert resolve_data_dir(None).is_dir()


def test_data_dir_option_beats_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SELFLOW_DATA_DIR", str(tmp_path / "from-env"))
    assert resolve_data_dir(tmp_path / "from-cli") == (tmp_path / "from-cli").resolve()


def test_cli_honours_both(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SELFLOW_DATA_DIR", str(tmp_path / "env"))
    assert main(["export", "jsonl"]) == 0
    assert db_path_for(tmp_path / "env").exists()
    assert main(["--data-dir", str(tmp_path / "cli"), "export", "jsonl"]) == 0
    assert db_path_for(tmp_path / "cli").exists()
    assert mode(tmp_path / "cli") == 0o700


def test_default_is_the_platform_user_data_folder(tmp_path: Path, monkeypatch) -> None:
    import platformdirs

    monkeypatch.delenv("SELFLOW_DATA_DIR", raising=False)
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / "platform" / app))
    assert resolve_data_dir() == (tmp_path / "platform" / "selflow").resolve()


def test_a_damaged_file_is_refused_before_anything_is_written(data_dir: Path) -> None:
    import hashlib

    from selflow_qt.store.errors import DatabaseDamaged

    db = open_database(data_dir)
    db.execute_sql("CREATE TABLE filler (x TEXT)")
    with db.atomic():
        for i in range(2_000):
            db.execute_sql("INSERT INTO filler VALUES (?)", (f"row {i} " * 8,))
    db.close()
    path = data_dir / "selflow.db"
    with path.open("r+b") as f:
        f.seek(path.stat().st_size // 2)
        f.write(b"\xff" * 8192)
    before = hashlib.sha256(path.read_bytes()).digest()
    with pytest.raises(DatabaseDamaged, match="selflow db recover"):
        open_database(data_dir)
    assert hashlib.sha256(path.read_bytes()).digest() == before


def test_backup_then_restore_puts_the_rows_back(data_dir: Path) -> None:
    from selflow_qt.store.backup import backup_database, list_backups, restore_database

    db = open_database(data_dir)
    db.execute_sql("CREATE TABLE notes (x TEXT)")
    db.execute_sql("INSERT INTO notes VALUES ('kept')")
    db.close()
    path = data_dir / "selflow.db"
    for _ in range(4):
        backup_database(path, keep=3)
    assert len(list_backups(data_dir)) == 3  # rolling: the oldest went
    path.write_bytes(b"not a database")
    used, aside = restore_database(path)
    assert used == list_backups(data_dir)[0] and aside is not None and aside.exists()
    db = open_database(data_dir)
    assert db.execute_sql("SELECT x FROM notes").fetchall() == [("kept",)]
    db.close()
