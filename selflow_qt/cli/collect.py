"""`selflow collect` (the headless collector) and `selflow status`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from selflow_qt.cli.options import positive_float, recorded_data_dir

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser("collect", help="run the collectors headless until Ctrl-C or SIGTERM")
    p.add_argument(
        "--roots", nargs="+", metavar="FOLDER", help="folders to watch (default: settings)"
    )
    p.add_argument("--no-fs", action="store_true", help="do not watch files")
    p.add_argument("--no-apps", action="store_true", help="do not record apps")
    p.add_argument("--no-shell", action="store_true", help="do not tail shell history")
    p.add_argument(
        "--seconds", type=positive_float, default=None, help="stop after this many seconds"
    )
    p.set_defaults(func=run_collect)

    s = subparsers.add_parser("status", help="events, buffer fill, database size, collectors")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=run_status)


def run_collect(args: argparse.Namespace) -> int:
    """Run the collection service until Ctrl-C, SIGTERM or ``--seconds``; flush; exit 0."""
    from selflow_qt.collect.service import CollectionService
    from selflow_qt.core.settings import Settings, resolve_data_dir

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    other = _running_collector(data_dir)
    if other is not None:
        print(
            f"selflow: a collector (pid {other}) is already running for {data_dir}; "
            "stop it first (two would record every event twice)",
            file=sys.stderr,
        )
        return 1
    settings = Settings.load(data_dir)
    roots = getattr(args, "roots", None)
    service = CollectionService(
        data_dir,
        settings,
        roots=roots,
        fs=False if getattr(args, "no_fs", False) else None,
        apps=False if getattr(args, "no_apps", False) else None,
        shell=False if getattr(args, "no_shell", False) else None,
    )
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: service.request_stop())
    names = ", ".join(c.name for c in service.collectors) or "none"
    watched = ", ".join(roots or settings.watch_roots) if "fs" in names else "-"
    print(
        f"selflow: collecting ({names}) into {data_dir}; watching {watched}. Press Ctrl-C to stop.",
        file=sys.stderr,
        flush=True,
    )
    from selflow_qt.store.errors import DB_ERRORS, DatabaseDamaged, describe

    try:
        service.start()
    except DatabaseDamaged as exc:
        print(f"selflow: {exc}", file=sys.stderr)
        return 2
    except DB_ERRORS as exc:
        print(f"selflow: {describe(exc, service.db_path).message}", file=sys.stderr)
        return 2
    from selflow_qt.agents.serving.prompt_serving import serve_prompt

    prompt = serve_prompt(service)
    try:
        _wait_telling_problems(service, getattr(args, "seconds", None))
    finally:
        service.stop()
        if prompt is not None:
            prompt.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stats = service.stats
    health = service.writer_health()
    print(
        f"selflow: stopped; {stats.written} events written"
        + (f", {stats.dropped} could not be saved (recorded as a gap)" if stats.dropped else ""),
        file=sys.stderr,
        flush=True,
    )
    problem = health.problem or health.last_problem
    if problem or health.state == "dead":
        print(f"selflow: {problem or 'the event writer stopped'}", file=sys.stderr)
    # Events that were lost make a failed run, so scripts and service managers notice.
    return 0 if health.ok else 3


def _wait_telling_problems(service, seconds: float | None) -> None:
    """Wait for a stop request (or ``seconds``), saying in one line when events start failing
    to be saved (a full disk, a read-only folder, a damaged file) and when they are saved again."""
    import time

    deadline = None if seconds is None else time.monotonic() + seconds
    told = ""
    while True:
        step = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
        if step <= 0 or service.wait(step):
            return
        problem = service.writer_health().problem
        if problem != told:
            queued = service.writer_health().queued
            text = (
                f"selflow: {problem}; {queued} events wait in memory"
                if problem
                else "selflow: events are saved again"
            )
            print(text, file=sys.stderr, flush=True)
            told = problem


def _running_collector(data_dir) -> int | None:
    """The pid of another live process collecting into ``data_dir``, if any."""
    import os

    from selflow_qt.collect.base import LIVE_STATES
    from selflow_qt.collect.status import collectors_health
    from selflow_qt.store.db import connect, db_path_for
    from selflow_qt.store.queries.collectors import any_collector_in, collector_rows

    path = db_path_for(data_dir)
    if not path.exists():
        return None
    try:
        db = connect(path)
    except Exception:  # a damaged file: the service's open reports it with the way out
        return None
    try:
        if not any_collector_in(db, tuple(LIVE_STATES)):
            return None
        live = {h["name"] for h in collectors_health(db) if h["state"] in LIVE_STATES}
        pids = [(name, pid) for name, _, _, pid, _ in collector_rows(db)]
    except Exception:  # no table yet (a database from before the collector existed)
        return None
    finally:
        db.close()
    for name, pid in pids:
        if name in live and pid and pid != os.getpid():
            return int(pid)
    return None


def _demo_collection(_ctx) -> str:
    from selflow_qt.core.wording import collection_line

    return collection_line(None, live_capture=False).removeprefix("Collection: ")


def _analyses_section(ctx) -> dict:
    """Analysis runs, patterns and the training queue, counted as the tray counts them."""
    from selflow_qt.store.queries.tray import (
        analyses_line,
        analysis_run_count,
        pattern_count,
        training_counts,
    )

    t = training_counts(ctx.db)
    return {
        "runs": analysis_run_count(ctx.db),
        "patterns": pattern_count(ctx.db),
        "queued": t.get("queued", 0),
        "training": t.get("training", 0),
        "summary": analyses_line(ctx.db),
    }


def run_status(args: argparse.Namespace) -> int:
    """Print the status report (see selflow_qt.collect.status for the JSON keys)."""
    from selflow_qt.cli.analyze import trigger_section
    from selflow_qt.collect.status import collect_status, format_status
    from selflow_qt.demo.folder import is_demo_dir
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.errors import DB_ERRORS, DatabaseDamaged, describe

    data_dir = recorded_data_dir(args)
    if data_dir is None:
        return 1
    try:
        ctx = StoreContext.open(data_dir)
    except DatabaseDamaged as exc:
        print(f"selflow: {exc}", file=sys.stderr)
        return 2
    except DB_ERRORS as exc:
        print(f"selflow: {describe(exc).message}", file=sys.stderr)
        return 2
    try:
        sections = {"analyses": _analyses_section, "trigger": trigger_section}
        if is_demo_dir(data_dir):  # what the tray and the status bar say there
            sections = {"collection": _demo_collection, **sections}
        report = collect_status(ctx, sections)
    finally:
        ctx.close()
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2))
    else:
        print(format_status(report))
    return 0
