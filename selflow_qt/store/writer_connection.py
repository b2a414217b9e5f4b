"""The event writer's one SQLite connection, checked against the file it opened before each
batch: a database file renamed over or overwritten is never written into."""

from __future__ import annotations

import logging
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.store.db import connect
from selflow_qt.store.errors import DatabaseDamaged

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"


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
        with open(self.db_path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
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
