"""`selflow`: with no subcommand the desktop app; subcommands run the same pipeline headless."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys

import peewee

from selflow_qt import __version__
from selflow_qt.cli import agents as cli_agents
from selflow_qt.cli import analyze as cli_analyze
from selflow_qt.cli import collect as cli_collect
from selflow_qt.cli import db as cli_db
from selflow_qt.cli import demo as cli_demo
from selflow_qt.cli import io as cli_io
from selflow_qt.cli import shell as cli_shell
from selflow_qt.cli.options import (
    OneLineParser,
    add_global_options,
    command_parsers,
    configure_logging,
    os_error_line,
)
from selflow_qt.store.errors import DatabaseDamaged, describe

log = logging.getLogger(__name__)

# Each module exposes register(subparsers); a command sets ``func(args) -> int`` as its default.
# Modules must stay cheap to import: heavy imports (torch, sklearn) go inside the handlers.
COMMAND_MODULES = (cli_collect, cli_db, cli_demo, cli_io, cli_analyze, cli_agents, cli_shell)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="selflow",
        description="SelFlow: learn your workflows privately. With no command, starts the desktop "
        "app. --data-dir and -v may be given before or after any command.",
    )
    parser.add_argument("--version", action="version", version=f"selflow {__version__}")
    add_global_options(parser, top=True)
    parser.add_argument(
        "--headless", action="store_true", help="never start the desktop app; run the collector"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this install with no display (demo import, analysis, training, window) "
        "in a temporary data folder, or in --data-dir if it is new or empty",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    for command in command_parsers(parser):
        add_global_options(command, top=False)
    return parser


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_desktop(args: argparse.Namespace) -> int:
    if args.headless or not has_display():
        if not args.headless:
            print(
                "selflow: no display found (DISPLAY and WAYLAND_DISPLAY are unset); "
                "running the headless collector instead. Press Ctrl-C to stop.",
                file=sys.stderr,
            )
        from selflow_qt.cli.collect import run_collect

        return run_collect(args)
    from selflow_qt.ui.probe import qt_unavailable

    why = qt_unavailable()
    if why is not None:
        print(
            f"selflow: the desktop app is unavailable ({why}); running headless.", file=sys.stderr
        )
        from selflow_qt.cli.collect import run_collect

        return run_collect(args)
    from selflow_qt.ui.app import run_app

    return run_app(args)


def main(argv: list[str] | None = None) -> int:
    # Every file SelFlow writes (database, -wal/-shm, settings, lock, logs, exports, backups,
    # agents) is the user's alone: 0600 files, 0700 folders, whichever module creates them.
    previous_umask = os.umask(0o077)
    try:
        return _main(argv)
    finally:
        os.umask(previous_umask)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    log.debug(
        "selflow %s: command %s, data folder %s",
        __version__,
        args.command or "(desktop app)",
        args.data_dir or os.environ.get("SELFLOW_DATA_DIR") or "(default)",
    )
    func = getattr(args, "func", None)
    if args.self_test:
        from selflow_qt.cli.selftest import run_self_test

        return run_self_test(args.data_dir)  # a new/empty --data-dir, else a temporary one
    try:
        if func is None:
            return run_desktop(args)
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except DatabaseDamaged as exc:  # the message says how to get out
        print(f"selflow: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, peewee.PeeweeException) as exc:  # full, locked or unreadable: one line
        logging.getLogger(__name__).debug("database error", exc_info=True)
        print(f"selflow: {describe(exc).message}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a folder that cannot be written: one line
        logging.getLogger(__name__).debug("system error", exc_info=True)
        print(f"selflow: {os_error_line(exc, args)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
