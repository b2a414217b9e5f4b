"""What a database failure means for the user, in one sentence every command and the tray share."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import peewee


class DatabaseDamaged(RuntimeError):
    """The database file fails its integrity check; the message says how to get out."""


@dataclass(frozen=True)
class DbProblem:
    """A database error as plain data: ``kind`` is disk_full, read_only, damaged, locked or
    error."""

    kind: str
    message: str

    @property
    def disk_full(self) -> bool:
        return self.kind == "disk_full"


DB_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, peewee.PeeweeException, OSError)


def is_disk_full(exc: BaseException) -> bool:
    text = str(exc).lower()
    return (
        getattr(exc, "errno", None) == errno.ENOSPC
        or "disk is full" in text
        or "no space left" in text
        or getattr(exc, "sqlite_errorcode", None) == 13  # SQLITE_FULL
    )


def is_read_only(exc: BaseException, folder: Path | None = None) -> bool:
    """SQLite or the OS refused a write because the file or its file system is read-only."""
    text = str(exc).lower()
    if getattr(exc, "errno", None) == errno.EROFS or "read-only file system" in text:
        return True
    if "readonly database" in text or getattr(exc, "sqlite_errorcode", 0) & 0xFF == 8:
        return True  # SQLITE_READONLY and its extended codes
    if folder is None or "disk i/o error" not in text:
        return False
    try:  # an I/O error on a folder whose file system went read-only
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _root_cause(exc: BaseException) -> BaseException:
    """Peewee reports a failed ROLLBACK ("cannot rollback") after SQLite rolled back a
    transaction itself (a full disk does that): the real error is in the exception's context."""
    seen = {id(exc)}
    cur: BaseException | None = exc
    while cur is not None:
        if is_disk_full(cur) or "cannot rollback" not in str(cur).lower():
            return cur
        cur = cur.__context__ or cur.__cause__
        if cur is None or id(cur) in seen:
            break
        seen.add(id(cur))
    return exc


def describe(exc: BaseException, db_path: Path | str | None = None) -> DbProblem:
    """The user-facing meaning of ``exc`` raised while using the database at ``db_path``."""
    exc = _root_cause(exc)
    text = str(exc) or type(exc).__name__
    folder = Path(db_path).parent if db_path else None
    if is_disk_full(exc):
        free = ""
        if folder is not None:
            try:
                free = f" ({shutil.disk_usage(folder).free / 1e6:.1f} MB free)"
            except OSError:
                pass
        where = f"holding {folder} " if folder is not None else ""
        return DbProblem(
            "disk_full",
            f"the disk {where}is full{free}: new events cannot be saved until space is freed "
            "(what was already saved is kept)",
        )
    if is_read_only(exc, folder):
        where = f" {folder}" if folder is not None else ""
        return DbProblem(
            "read_only",
            f"the data folder{where} is read-only: new events cannot be saved until it is "
            "writable again (what was already saved is kept)",
        )
    low = text.lower()
    if isinstance(exc, DatabaseDamaged) or any(
        s in low for s in ("malformed", "not a database", "file is encrypted", "disk i/o error")
    ):
        return DbProblem(
            "damaged",
            f"the database {db_path or ''} is damaged ({text}); run `selflow db check`, "
            "then `selflow db restore` or `selflow db recover`",
        )
    if "locked" in low or "busy" in low:
        return DbProblem("locked", f"the database is busy ({text}); retrying")
    return DbProblem("error", f"database error: {type(exc).__name__}: {text}")
