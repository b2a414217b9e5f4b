"""`selflow import`: validate a whole input first, then write it in one transaction.

Each kind of input (JSON Lines, shell history, ActivityWatch) is a source whose ``records()``
yields events and record-level errors, and can be iterated twice: once to validate, once to
write. Nothing is written unless every record is valid (or ``skip_bad`` says to skip the bad ones).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

# Each source module registers its kind in collect.import_source when imported.
from selflow_qt.collect import import_aw, import_jsonl, import_shell  # noqa: F401
from selflow_qt.collect.import_source import (
    ImportFormatError,
    ImportSource,
    Record,
    open_source,
)
from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.queries.events import last_event_id
from selflow_qt.store.rows import EventDeduper
from selflow_qt.store.writer import insert_events

if TYPE_CHECKING:
    from peewee import SqliteDatabase

    from selflow_qt.store.context import StoreContext

__all__ = [
    "ImportFormatError",
    "ImportReport",
    "ImportSource",
    "Record",
    "import_file",
    "import_source",
]

CHUNK = 5_000  # events per insert and per duplicate lookup
MAX_LISTED_SKIPS = 1_000  # skipped records kept for the report; the count keeps going

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did: imported, filtered by privacy, skipped as malformed, already present."""

    kind: str
    source: str
    imported: int = 0
    filtered: int = 0
    skipped: int = 0
    duplicates: int = 0
    valid: int = 0
    seconds: float = 0.0
    skipped_records: list[ImportFormatError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"imported {self.imported} events from {self.source}, "
            f"filtered by privacy {self.filtered}, skipped {self.skipped}, "
            f"already present {self.duplicates} ({self.seconds:.1f} s)"
        )


def import_file(
    ctx: StoreContext,
    kind: str,
    path: str | Path,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one file (or aw-server URL) into the store, all or nothing.

    ``progress(done, total)`` is called while it works; total is 0 while validating.
    """
    source = open_source(kind, path)
    privacy = PrivacyFilter.from_settings(ctx.settings)
    return import_source(ctx.db, source, kind, privacy, skip_bad=skip_bad, progress=progress)


def import_source(
    db: SqliteDatabase,
    source: ImportSource,
    kind: str,
    privacy: PrivacyFilter,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every record of ``source``, then write the good ones in one transaction."""
    started = time.monotonic()
    report = ImportReport(kind=kind, source=source.name)
    for rec in source.records():
        if isinstance(rec, ImportFormatError):
            if not skip_bad:
                raise rec
            report.skipped += 1
            if len(report.skipped_records) < MAX_LISTED_SKIPS:
                report.skipped_records.append(rec)
        else:
            report.valid += 1
            if progress is not None and report.valid % 10_000 == 0:
                progress(report.valid, 0)
    _write(db, source, privacy, report, skip_bad, progress)
    report.seconds = time.monotonic() - started
    return report


def _write(
    db: SqliteDatabase,
    source: ImportSource,
    privacy: PrivacyFilter,
    report: ImportReport,
    skip_bad: bool,
    progress: Progress | None,
) -> None:
    total, done = report.valid, 0
    # IMMEDIATE: take the write lock up front so a live writer can't make us fail half-way.
    with db.atomic("IMMEDIATE"):
        last_id = last_event_id(db)
        dedupe = EventDeduper(db, last_id) if last_id is not None else None
        batch: list[Event] = []
        for rec in source.records():
            if isinstance(rec, ImportFormatError):
                if not skip_bad:  # the input changed since it was validated
                    raise rec
                continue
            done += 1
            ev = privacy.apply(rec)
            if ev is None:
                report.filtered += 1
            else:
                batch.append(ev)
            if len(batch) >= CHUNK:
                _flush(db, batch, dedupe, report)
                batch = []
                if progress is not None:
                    progress(done, total)
        _flush(db, batch, dedupe, report)
        if dedupe is not None:
            dedupe.close()
    if progress is not None:
        progress(total, total)


def _flush(
    db: SqliteDatabase, batch: list[Event], dedupe: EventDeduper | None, report: ImportReport
) -> None:
    if dedupe is not None and batch:
        present = dedupe.present(batch)
        if present:
            report.duplicates += len(present)
            batch = [ev for i, ev in enumerate(batch) if i not in present]
    n, _ = insert_events(db, batch)
    report.imported += n
