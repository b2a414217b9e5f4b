"""The `import` and `export` commands."""

from __future__ import annotations

import argparse
import sys
import time

from selflow_qt.cli.options import os_error_line, show_progress

KIND_HELP = {
    "jsonl": ("FILE", "events in the JSON Lines interchange form, one a line"),
    "shell": ("FILE", "a bash, zsh (extended or plain) or fish history file"),
    "activitywatch": (
        "FILE|URL",
        "an aw-server export JSON file, or a running aw-server (e.g. http://localhost:5600)",
    ),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    imp = subparsers.add_parser(
        "import",
        help="import events from a file (all or nothing)",
        description="Import events. The whole input is checked first; a malformed record stops "
        "the import with its file and line and nothing is written, unless --skip-bad is given. "
        "Privacy rules apply; events already in the database are not added twice.",
    )
    kinds = imp.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    for kind, (metavar, help_text) in KIND_HELP.items():
        p = kinds.add_parser(kind, help=help_text, description=help_text)
        p.add_argument("source", metavar=metavar, help=f"what to import: {help_text}")
        p.add_argument(
            "--skip-bad",
            action="store_true",
            help="skip malformed records (each is reported) and import the rest",
        )
        p.set_defaults(func=run_import, import_kind=kind)

    exp = subparsers.add_parser("export", help="export events (JSON Lines)")
    formats = exp.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    j = formats.add_parser("jsonl", help="the interchange form, one event a line, in time order")
    j.add_argument("-o", "--output", default=None, help="file to write (default or '-': stdout)")
    j.add_argument("--since", default=None, help="first time to include (seconds, date or ISO)")
    j.add_argument("--until", default=None, help="time to stop before (seconds, date or ISO)")
    j.add_argument(
        "--no-patterns",
        dest="with_patterns",
        action="store_false",
        help="leave out meta.pattern (after an analysis each event's pattern of the latest "
        "cycle, id and name, or null where it has none)",
    )
    # the default since patterns are always written; kept so older scripts still run
    j.add_argument(
        "--with-patterns",
        action="store_true",
        default=True,
        help="write meta.pattern (the default; kept so older scripts still run)",
    )
    j.set_defaults(func=run_export)


class _ProgressLine:
    """A throttled progress line on a terminal's stderr."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and done != total:
            return
        self.last = now
        text = f"checked {done}" if total == 0 else f"writing {done}/{total}"
        print(f"\r{text} events", end="", file=sys.stderr, flush=True)


def _open_store(args: argparse.Namespace):
    from selflow_qt.store.context import StoreContext

    try:
        return StoreContext.open(args.data_dir)
    except OSError as exc:  # the data folder's one wording (the app's dialog says the same)
        print(f"selflow: {os_error_line(exc, args)}", file=sys.stderr)
        return None
    except (ValueError, RuntimeError) as exc:
        print(f"selflow: {exc}", file=sys.stderr)
        return None


def run_import(args: argparse.Namespace) -> int:
    from selflow_qt.collect.importers import ImportFormatError, import_file
    from selflow_qt.store.errors import DB_ERRORS, describe, is_disk_full

    ctx = _open_store(args)
    if ctx is None:
        return 2
    progress = _ProgressLine() if show_progress(args) else None
    try:
        report = import_file(ctx, args.import_kind, args.source, args.skip_bad, progress)
    except ImportFormatError as exc:
        if progress is not None:
            print(file=sys.stderr)
        print(f"selflow: {exc}", file=sys.stderr)
        print("selflow: nothing was imported", file=sys.stderr)
        return 2
    except ValueError as exc:  # e.g. an invalid redaction pattern in settings.json
        print(f"selflow: {exc}", file=sys.stderr)
        return 2
    except DB_ERRORS as exc:  # a full disk, a damaged database: the transaction rolled back
        if progress is not None:
            print(file=sys.stderr)
        if isinstance(exc, OSError) and not is_disk_full(exc):
            print(f"selflow: cannot read {args.source}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"selflow: {describe(exc, ctx.db_path).message}", file=sys.stderr)
        print("selflow: nothing was imported", file=sys.stderr)
        return 2
    finally:
        ctx.close()
    if progress is not None:
        print(file=sys.stderr)
    for rec in report.skipped_records:
        print(f"selflow: skipped {rec}", file=sys.stderr)
    if report.skipped > len(report.skipped_records):
        print(
            f"selflow: ... and {report.skipped - len(report.skipped_records)} more skipped",
            file=sys.stderr,
        )
    print(report.summary())
    return 0


def run_export(args: argparse.Namespace) -> int:
    from selflow_qt.collect.export import export_to, parse_when

    try:
        since = parse_when(args.since) if args.since else None
        until = parse_when(args.until) if args.until else None
    except ValueError as exc:
        print(f"selflow: {exc}", file=sys.stderr)
        return 2
    ctx = _open_store(args)
    if ctx is None:
        return 2
    try:
        n = export_to(ctx.db, args.output, since, until, with_patterns=args.with_patterns)
    except OSError as exc:
        print(f"selflow: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        ctx.close()
    if args.output not in (None, "-"):
        print(f"exported {n} events to {args.output}", file=sys.stderr)
    return 0
