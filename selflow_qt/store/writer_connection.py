"""The event writer's one SQLite connection, checked against the file it opened before each
batch: a database file renamed over or overwritten is never written into."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.store.db import connect
from selflow_qt.store.errors import DatabaseDamaged

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"

# Descriptors that read database headers, one per file (st_dev, st_ino), open for the life of the
# process. Closing any descriptor of a file drops every POSIX lock this process holds on it,
# SQLite's included: another process's connection then takes itself for the last one when it
# closes, checkpoints and deletes the WAL, and this process's later commits go to the deleted
# file (acknowledged, never stored). SQLite keeps its own descriptors open for the same reason.
_header_fds: dict[tuple[int, int], int] = {}
_header_lock = threading.Lock()


def read_header(path: Path, size: int = len(SQLITE_HEADER)) -> bytes:
    """The first ``size`` bytes of ``path``, read through a descriptor that is never closed."""
    st = os.stat(path)
    with _header_lock:
        fd = _header_fds.get((st.st_dev, st.st_ino))
        if fd is None:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            opened = os.fstat(fd)  # the path may have been replaced meanwhile: key by what opened
            fd = _header_fds.setdefault((opened.st_dev, opened.st_ino), fd)  # a rare spare stays
    return os.pread(fd, size, 0)


class WriterConnection:
    """Opened on first use; ``drop`` forgets it after a failure."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self._db: SqliteDatabase | None = None
        self._file_id: tuple[int, int] | None = None  # the database file the connection has open

    def get(self) -> SqliteDatabase:
        """The open connection, after checking its file is still the database it opened: a file
        replaced (renamed over, or overwritten with something else) is never written into."""
        try:
            st = self.db_path.stat()
        except FileNotFoundError:
            raise DatabaseDamaged("the file is gone") from None
        if self._db is not None and self._file_id != (st.st_dev, st.st_ino):
            self.drop()  # renamed over: the open one writes to a deleted file
        head = read_header(self.db_path)
        if head and head != SQLITE_HEADER:
            raise DatabaseDamaged("replaced or overwritten: it does not start as an SQLite file")
        if self._db is None:
            self._db = connect(self.db_path)
            self._file_id = (st.st_dev, st.st_ino)
        return self._db

    def drop(self) -> None:
        """Forget the connection after a failure: Peewee's transaction state may be stale (a
        full disk makes SQLite roll back by itself, then Peewee's ROLLBACK fails)."""
        db, self._db = self._db, None
        if db is None:
            return
        try:
            conn = db._state.conn
            db._state.reset()
            if conn is not None:
                conn.close()
        except Exception:  # closing a broken connection must not fail the writer
            log.debug("closing the writer's connection failed", exc_info=True)
