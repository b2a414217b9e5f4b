"""The options every command shares, and value checks that reject out-of-range input in one line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

GLOBAL_HELP = {
    "data_dir": "data folder (default: $SELFLOW_DATA_DIR or the platform's user data folder)",
    "verbose": "show progress and debug logs on stderr",
}


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``selflow predict: -k must be ...``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--data-dir`` and ``-v``, before or after any command.

    On the top parser they carry the defaults; on each command they default to SUPPRESS so a value
    given before the command is kept unless the command's own position gives another.
    """
    existing = {s for a in parser._actions for s in a.option_strings}
    if "--data-dir" not in existing:
        parser.add_argument(
            "--data-dir",
            metavar="DIR",
            default=None if top else argparse.SUPPRESS,
            help=GLOBAL_HELP["data_dir"],
        )
    if "-v" not in existing:
        parser.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=False if top else argparse.SUPPRESS,
            help=GLOBAL_HELP["verbose"],
        )


def command_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every (sub)command parser below ``parser``, depth first."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                found.append(sub)
                found.extend(command_parsers(sub))
    return found


def _checked(kind: type, test, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"must be {what}, not {text}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


positive_int = _checked(int, lambda v: v >= 1, "a whole number of 1 or more")
non_negative_int = _checked(int, lambda v: v >= 0, "a whole number of 0 or more")
positive_float = _checked(float, lambda v: v > 0, "a number above 0")
open_fraction = _checked(float, lambda v: 0 < v < 1, "a fraction between 0 and 1 (exclusive)")


def configure_logging(verbose: bool) -> None:
    """-v: SelFlow's own debug logs and progress; otherwise warnings only.

    Third-party libraries stay at INFO even with -v (peewee logs every query at DEBUG).
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("selflow_qt").setLevel(logging.DEBUG if verbose else logging.NOTSET)


def show_progress(args: argparse.Namespace) -> bool:
    """Progress lines on stderr: on a terminal, or anywhere with -v."""
    return bool(getattr(args, "verbose", False)) or sys.stderr.isatty()


def recorded_data_dir(args: argparse.Namespace) -> Path | None:
    """The data folder of a read-only command, or None (and one line said) if nothing is there.

    Read-only commands create nothing: no folder, no database, no settings.
    """
    from selflow_qt.core.settings import resolve_data_dir
    from selflow_qt.store.db import db_path_for

    data_dir = resolve_data_dir(getattr(args, "data_dir", None), create=False)
    if db_path_for(data_dir).is_file():
        return data_dir
    from selflow_qt.core.data_folder import folder_problem

    problem = folder_problem(data_dir) if data_dir.exists() else None
    if problem is not None:
        print(f"selflow: {problem}", file=sys.stderr)
        return None
    where = "does not exist" if not data_dir.exists() else "holds no database"
    print(
        f"selflow: nothing recorded yet: {data_dir} {where} (start `selflow` or "
        "`selflow collect` to record, or try `selflow demo`)",
        file=sys.stderr,
    )
    return None


def os_error_line(exc: OSError, args: argparse.Namespace) -> str:
    """A full disk, an unusable data folder (the app's start-up dialog says the same: both word
    it with ``core.data_folder.folder_problem``), or the error itself."""
    from selflow_qt.core.data_folder import folder_problem
    from selflow_qt.core.settings import resolve_data_dir
    from selflow_qt.store.errors import describe, is_disk_full

    if is_disk_full(exc):
        return describe(exc).message
    folder = resolve_data_dir(getattr(args, "data_dir", None), create=False)
    return folder_problem(folder, exc) or str(exc)
