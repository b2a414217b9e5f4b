"""The files half of `selflow db scrub`: SelFlow's own files in the data folder, rewritten.

Every text file under the data folder is read and, where today's filter changes it, replaced
whole (a temporary file, fsync, rename; mode kept): JSON string by string (keys too), JSONL
line by line, anything else (logs) line by line. Backups are SQLite files and are scrubbed like
the database. Left as they are: the database itself (scrubbed by table), ``settings.json`` (it
holds the rules, not captured data), downloaded base models and binary files (weights, the
shell spool's framed records).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.backup import BACKUP_DIR
from selflow_qt.store.db import DB_FILENAME
from selflow_qt.store.scrub import (
    ANALYSIS_TABLES,
    TableScrub,
    redact_json,
    redact_text_value,
    scrub_database,
)

Redact = Callable[[str], str | None]

# Kinds of file, as `selflow db scrub` reports them.
KINDS = ("exports", "agents", "logs", "backups", "other files")
_SKIP_NAMES = {"settings.json", "settings.json.broken"}
_SKIP_DIRS = {"models"}  # downloaded / converted base models: weights, not captured data
_SNIFF = 8192


@dataclass
class FileScrub:
    """Files looked at and files changed, per kind; files left alone because binary."""

    seen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    binary: int = 0


def kind_of(rel: Path) -> str:
    """Which kind a file in the data folder (``rel`` relative to it) is reported as."""
    top = rel.parts[0] if len(rel.parts) > 1 else ""
    if top == BACKUP_DIR:
        return "backups"
    if top == "agents":
        return "agents"
    if top == "logs" or rel.suffix == ".log":
        return "logs"
    if rel.suffix in (".jsonl", ".ndjson"):
        return "exports"
    return "other files"


def _is_database_file(name: str) -> bool:
    base = DB_FILENAME
    return name == base or name.startswith(base + "-")


def data_files(data_dir: Path) -> Iterator[Path]:
    """Every regular file under ``data_dir`` that the files scrub may rewrite."""
    for root, dirs, files in os.walk(data_dir):
        here = Path(root)
        if here == data_dir:
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in files:
            path = here / name
            if here == data_dir and (_is_database_file(name) or name in _SKIP_NAMES):
                continue
            if path.is_symlink() or not path.is_file():
                continue
            yield path


def _rewrite_lines(text: str, redact: Redact, as_json: bool) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body) :]
        if as_json or body.lstrip()[:1] in ("{", "["):
            new = redact_text_value(body, redact)
        else:
            red = redact(body)
            new = body if red is None else red
        out.append(new + end)
    return "".join(out)


def scrub_text(text: str, suffix: str, redact: Redact) -> str:
    """``text`` of a file with that suffix, redacted the way its format allows."""
    if suffix == ".json":
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            new = redact_json(parsed, redact)
            return text if new is parsed else json.dumps(new, ensure_ascii=False, indent=1)
    return _rewrite_lines(text, redact, suffix in (".jsonl", ".ndjson"))


def _replace(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".scrub", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scrub_file(path: Path, redact: Redact) -> bool | None:
    """Rewrite one text file if the filter changes it: True if changed, None if binary."""
    raw = path.read_bytes()
    if b"\x00" in raw[:_SNIFF]:
        return None
    text = raw.decode("utf-8", errors="surrogateescape")
    new = scrub_text(text, path.suffix, redact)
    if new == text:
        return False
    _replace(path, new.encode("utf-8", errors="surrogateescape"))
    return True


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def scrub_files(
    data_dir: Path, flt: PrivacyFilter, extra: list[Path] | tuple[Path, ...] = ()
) -> FileScrub:
    """Scrub SelFlow's files under ``data_dir`` and the export files in ``extra``."""
    data_dir = Path(data_dir)
    report = FileScrub()
    paths = [(p, kind_of(p.relative_to(data_dir))) for p in data_files(data_dir)]
    paths += [(Path(p).expanduser(), "exports") for p in extra]
    for path, kind in paths:
        if path.name.endswith(("-wal", "-shm", "-journal")) and kind == "backups":
            continue  # a backup's own journal files: folded in when the backup is scrubbed
        report.seen[kind] += 1
        if _is_sqlite(path):
            if scrub_database(path, flt).total:
                report.changed[kind] += 1
            continue
        changed = scrub_file(path, flt.redact)
        if changed is None:
            report.binary += 1
        elif changed:
            report.changed[kind] += 1
    return report


_LABELS = {
    "exports": "exports",
    "agents": "agents' files",
    "logs": "logs",
    "other files": "other files",
    "backups": "backups",
}


def scrub_lines(tables: TableScrub | None, files: FileScrub) -> list[str]:
    """What `selflow db scrub` says: how many it changed, one line per kind."""
    lines = []
    if tables is None:
        lines.append("events: no database")
    else:
        rows = tables.rows
        lines.append(
            f"events: {rows.get('events', 0)} rewritten, {tables.events_removed} removed "
            "(excluded by today's rules)"
        )
        parts = ", ".join(f"{t} {rows.get(t, 0)}" for t in ANALYSIS_TABLES)
        n = sum(rows.get(t, 0) for t in ANALYSIS_TABLES)
        lines.append(f"analysis tables: {n} rows rewritten ({parts})")
        others = {t: c for t, c in rows.items() if t != "events" and t not in ANALYSIS_TABLES}
        named = ", ".join(f"{t} {c}" for t, c in others.items() if c)
        lines.append(
            f"other tables: {sum(others.values())} rows rewritten"
            + (f" ({named})" if named else "")
        )
        state = "checkpointed" if tables.checkpointed else "NOT fully checkpointed (busy reader)"
        lines.append(f"database: WAL {state}, vacuumed with secure_delete")
    for kind in KINDS:
        label = _LABELS[kind]
        extra = " (rewritten in place, not deleted)" if kind == "backups" else ""
        lines.append(f"{label}: {files.changed[kind]} of {files.seen[kind]} files rewritten{extra}")
    if files.binary:
        lines.append(f"binary files left as they are: {files.binary}")
    return lines


__all__ = [
    "KINDS",
    "FileScrub",
    "data_files",
    "kind_of",
    "scrub_file",
    "scrub_files",
    "scrub_lines",
    "scrub_text",
]
