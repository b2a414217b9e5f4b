"""The store as a command or a job sees it: data folder, settings and an open database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from peewee import SqliteDatabase

from selflow_qt.core.settings import Settings, resolve_data_dir
from selflow_qt.store.db import db_path_for, open_database


@dataclass
class StoreContext:
    data_dir: Path
    settings: Settings
    db: SqliteDatabase

    @property
    def db_path(self) -> Path:
        return db_path_for(self.data_dir)

    @classmethod
    def open(cls, data_dir: str | Path | None = None) -> StoreContext:
        path = resolve_data_dir(data_dir)
        return cls(data_dir=path, settings=Settings.load(path), db=open_database(path))

    def close(self) -> None:
        self.db.close()
