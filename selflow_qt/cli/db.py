"""`selflow db check|backup|restore|recover`: the way out of a damaged database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from selflow_qt.cli.options import positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "db",
        help="check, back up, restore or recover the database",
        description="Check the database's integrity, take a backup (SQLite's online backup API; "
        "the newest few are kept in backups/), put a backup back, or salvage every readable row "
        "of a damaged database. A damaged file is always kept aside, never deleted.",
    )
    sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    c = sub.add_parser("check", help="check every page of the database (exit 1 if damaged)")
    c.set_defaults(func=run_check)
    b = sub.add_parser("backup", help="take a backup now")
    b.add_argument("--keep", type=positive_int, default=None, help="backups to keep (default 3)")
    b.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="replace the database with a backup (default: newest)")
    r.add_argument("backup", nargs="?", default=None, help="a file from backups/")
    r.add_argument("--list", action="store_true", help="list the backups and stop")
    r.set_defaults(func=run_restore)
    v = sub.add_parser("recover", help="rebuild the database from every row that can be read")
    v.set_defaults(func=run_recover)
    s = sub.add_parser(
        "scrub",
        help="apply today's privacy rules to everything already stored",
        description="Rewrite the stored events, every table's text, the backups and SelFlow's "
        "files in the data folder (exports, agents' files, logs) with today's privacy filter "
        "(a rule added since included), then checkpoint and vacuum so no copy stays behind.",
    )
    s.add_argument(
        "--export",
        action="append",
        default=[],
        metavar="FILE",
        help="an export written outside the data folder to scrub too (repeatable)",
    )
    s.set_defaults(func=run_scrub)


def _paths(args) -> tuple[Path, Path]:
    from selflow_qt.core.settings import resolve_data_dir
    from selflow_qt.store.db import db_path_for

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    return data_dir, db_path_for(data_dir)


def run_check(args: argparse.Namespace) -> int:
    from selflow_qt.store.backup import check_database, list_backups

    data_dir, path = _paths(args)
    if not path.exists():
        print(f"selflow: no database yet at {path}")
        return 0
    result = check_database(path)
    print(result.summary())
    backups = list_backups(data_dir)
    print(f"backups: {len(backups)}" + (f", newest {backups[0].name}" if backups else ""))
    if not result.ok:
        print(
            "selflow: run `selflow db restore` to put the newest backup back, or "
            "`selflow db recover` to keep every readable row",
            file=sys.stderr,
        )
        return 1
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from selflow_qt.store.backup import BACKUP_KEEP, backup_database
    from selflow_qt.store.errors import DB_ERRORS, DatabaseDamaged, describe

    _, path = _paths(args)
    if not path.exists():
        print(f"selflow: no database at {path}", file=sys.stderr)
        return 2
    try:
        target = backup_database(path, keep=args.keep or BACKUP_KEEP)
    except DatabaseDamaged as exc:
        print(f"selflow: {exc}", file=sys.stderr)
        return 1
    except DB_ERRORS as exc:
        print(f"selflow: backup failed: {describe(exc, path).message}", file=sys.stderr)
        return 2
    print(f"backed up to {target}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from selflow_qt.store.backup import list_backups, restore_database
    from selflow_qt.store.errors import DB_ERRORS, describe

    data_dir, path = _paths(args)
    if args.list:
        for b in list_backups(data_dir):
            print(b)
        return 0
    try:
        used, aside = restore_database(path, Path(args.backup) if args.backup else None)
    except FileNotFoundError as exc:
        print(f"selflow: {exc}", file=sys.stderr)
        return 2
    except DB_ERRORS as exc:
        print(f"selflow: restore failed: {describe(exc, path).message}", file=sys.stderr)
        return 2
    print(f"restored {used}" + (f"; the previous database is kept as {aside}" if aside else ""))
    return 0


def run_recover(args: argparse.Namespace) -> int:
    from selflow_qt.store.errors import DB_ERRORS, describe
    from selflow_qt.store.recovery import recover_database

    data_dir, path = _paths(args)
    if not path.exists():
        print(f"selflow: no database at {path}", file=sys.stderr)
        return 2
    try:
        report = recover_database(data_dir)
    except DB_ERRORS as exc:
        print(f"selflow: recovery failed: {describe(exc, path).message}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def run_scrub(args: argparse.Namespace) -> int:
    from selflow_qt.core.privacy import PrivacyFilter
    from selflow_qt.core.settings import Settings
    from selflow_qt.store.errors import DB_ERRORS, describe
    from selflow_qt.store.scrub import scrub_database
    from selflow_qt.store.scrub_files import scrub_files, scrub_lines

    data_dir, path = _paths(args)
    try:
        flt = PrivacyFilter.from_settings(Settings.load(data_dir), data_dir)
    except ValueError as exc:  # a redaction pattern that does not compile
        print(f"selflow: {exc}", file=sys.stderr)
        return 2
    exports = [Path(e) for e in args.export]
    missing = [str(e) for e in exports if not e.expanduser().is_file()]
    if missing:
        print(f"selflow: no such export: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        tables = scrub_database(path, flt) if path.exists() else None
        files = scrub_files(data_dir, flt, exports)
    except DB_ERRORS as exc:
        print(f"selflow: scrub failed: {describe(exc, path).message}", file=sys.stderr)
        return 2
    for line in scrub_lines(tables, files):
        print(line)
    return 0
