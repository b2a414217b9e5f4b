"""Integrity checks, rolling backups (SQLite's online backup API) and restoring one.

A backup is a consistent copy taken while SelFlow runs; ``backups/`` keeps the newest few.
A damaged database is never deleted: restore and recover move it aside first.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from selflow_qt.store.errors import DatabaseDamaged

BACKUP_DIR = "backups"
BACKUP_KEEP = 3
BACKUP_EVERY_S = 24 * 3600.0
# quick_check reads every page (about 5 ms per MB); above this size it runs once a day.
FULL_CHECK_MAX_BYTES = 128 * 1024 * 1024
CHECK_KEY = "db.checked"


@dataclass
class CheckResult:
    """What an integrity check found: ``ok``, and the problems (at most a few) if not."""

    path: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    full: bool = True  # False: only the header and size were checked

    def summary(self) -> str:
        if self.ok:
            return f"{self.path}: ok" + ("" if self.full else " (header and size; quick)")
        return f"{self.path}: damaged: " + "; ".join(self.problems[:5])


def _header_problems(path: Path) -> list[str]:
    """The header and size, read through SQLite: opening the file any other way and closing it
    would drop the POSIX locks this process's SQLite connections hold on it (a classic way to
    corrupt a database; seen here as "disk I/O error" on the next write)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return [f"cannot read: {exc.strerror or exc}"]
    if size == 0:
        return []  # a new, empty database
    if size < 100:
        return ["the file is too short to hold an SQLite header"]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            page = int(conn.execute("PRAGMA page_size").fetchone()[0])
            pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"the file is not a readable SQLite database ({exc})"]
    wal = Path(str(path) + "-wal")
    if size % page:
        return [f"the file size {size} is not a whole number of {page}-byte pages (truncated?)"]
    if pages and size < pages * page and not (wal.exists() and wal.stat().st_size):
        return [f"the file holds {size // page} of its {pages} pages (truncated)"]
    return []


def check_database(path: Path, full: bool = True) -> CheckResult:
    """Check ``path``: the header and size always, every page (quick_check) when ``full``."""
    path = Path(path)
    problems = _header_problems(path)
    if problems or not full or not path.exists() or path.stat().st_size == 0:
        return CheckResult(str(path), not problems, problems, full=False)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(20)").fetchall()]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return CheckResult(str(path), False, [str(exc)])
    if rows == ["ok"]:
        return CheckResult(str(path), True)
    return CheckResult(str(path), False, rows)


def damaged_error(result: CheckResult) -> DatabaseDamaged:
    newest = newest_backup(Path(result.path).parent)
    way_out = (
        f"`selflow db restore` (puts back the backup of {_when(newest)}) or "
        if newest is not None
        else ""
    )
    return DatabaseDamaged(
        f"the database {result.path} is damaged ({'; '.join(result.problems[:3])}). "
        f"Nothing was changed. Run {way_out}`selflow db recover` (saves every readable row); "
        "the damaged file is kept aside"
    )


def check_on_open(path: Path, last_full_check: float | None = None) -> CheckResult:
    """The check done when the database is opened: whole for small files, else daily."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return CheckResult(str(path), True, full=False)
    due = last_full_check is None or time.time() - last_full_check > BACKUP_EVERY_S
    return check_database(path, full=size <= FULL_CHECK_MAX_BYTES or due)


# -- backups -----------------------------------------------------------------------------------
def backup_dir(data_dir: Path) -> Path:
    return Path(data_dir) / BACKUP_DIR


def list_backups(data_dir: Path) -> list[Path]:
    """Backups, newest first."""
    folder = backup_dir(data_dir)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("selflow-*.db"), key=lambda p: p.name, reverse=True)


def newest_backup(data_dir: Path) -> Path | None:
    found = list_backups(data_dir)
    return found[0] if found else None


def _when(path: Path | None) -> str:
    if path is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))


def backup_database(db_path: Path, keep: int = BACKUP_KEEP) -> Path:
    """A consistent copy of ``db_path`` in ``backups/`` (0600); older ones beyond ``keep`` go.

    Refuses to back up a damaged database (it would push a good backup out).
    """
    db_path = Path(db_path)
    result = check_database(db_path)
    if not result.ok:
        raise damaged_error(result)
    folder = backup_dir(db_path.parent)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime())
    target = folder / f"selflow-{stamp}.db"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"selflow-{stamp}-{n}.db"
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst, pages=4096, sleep=0.005)  # in steps: writers are not blocked for long
    finally:
        dst.close()
        src.close()
    os.replace(tmp, target)
    for old in list_backups(db_path.parent)[max(1, keep) :]:
        old.unlink(missing_ok=True)
    return target


def backup_if_due(db_path: Path, every_s: float = BACKUP_EVERY_S) -> Path | None:
    """Back up when the newest backup is older than ``every_s`` (or there is none)."""
    db_path = Path(db_path)
    newest = newest_backup(db_path.parent)
    if newest is not None and time.time() - newest.stat().st_mtime < every_s:
        return None
    # A backup must never be what fills the disk the events are written to.
    if shutil.disk_usage(db_path.parent).free < 2 * db_path.stat().st_size + (64 << 20):
        raise OSError(28, "not enough free space for a backup (kept the previous ones)")
    return backup_database(db_path)


def move_aside(db_path: Path) -> Path:
    """Rename the database (and its -wal/-shm) to ``selflow.db.damaged-STAMP``; returns it."""
    db_path = Path(db_path)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime())
    target = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            os.replace(p, Path(str(target) + suffix))
    return target


def restore_database(db_path: Path, backup: Path | None = None) -> tuple[Path, Path | None]:
    """Put ``backup`` (default: the newest good one) in place of ``db_path``.

    Returns (the backup used, where the replaced database was moved, or None if there was none).
    """
    db_path = Path(db_path)
    candidates = [Path(backup)] if backup is not None else list_backups(db_path.parent)
    chosen = next((b for b in candidates if b.is_file() and check_database(b).ok), None)
    if chosen is None:
        raise FileNotFoundError(
            f"no intact backup in {backup_dir(db_path.parent)}"
            if backup is None
            else f"{backup} is missing or damaged"
        )
    aside = move_aside(db_path) if db_path.exists() else None
    tmp = db_path.with_name(db_path.name + ".restoring")
    shutil.copyfile(chosen, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, db_path)
    return chosen, aside
