"""`selflow demo`: write a simulated week of work (ending now) into a demo data folder."""

from __future__ import annotations

import argparse
import os
import sys
import time

from selflow_qt.cli.options import positive_int
from selflow_qt.core.format import count
from selflow_qt.demo.folder import default_demo_dir, is_demo_dir, mark_demo
from selflow_qt.demo.generator import DEFAULT_EVENTS_PER_DAY, write_demo


def run_demo(args: argparse.Namespace) -> int:
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.queries.events import event_count

    # the demo never writes into the user's real data: its own folder unless one is named
    data_dir = args.data_dir or os.environ.get("SELFLOW_DATA_DIR") or default_demo_dir()
    ctx = StoreContext.open(data_dir)
    try:
        held = event_count(ctx.db)
        if held:  # a second demo would double every workflow; real data must not mix with it
            what = "demo" if is_demo_dir(ctx.data_dir) else "recorded"
            print(
                f"selflow demo: {ctx.data_dir} already holds {held:,} {what} events; "
                "the demo writes only into an empty folder (name another with --data-dir)",
                file=sys.stderr,
            )
            return 1
        mark_demo(ctx.data_dir, days=args.days, seed=args.seed)
        t = time.perf_counter()
        n = write_demo(
            ctx, days=args.days, seed=args.seed, events_per_day=args.events_per_day, home=args.home
        )
        print(
            f"wrote {n:,} demo events ({count(args.days, 'day')} ending now, seed {args.seed}) to "
            f"{ctx.db_path} in {time.perf_counter() - t:.1f} s\n"
            f"next: selflow analyze --data-dir {ctx.data_dir}; the app on it: "
            f"selflow --data-dir {ctx.data_dir}  (a demo folder: nothing is captured live there)"
        )
    finally:
        ctx.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="write a simulated week of work (five workflows + noise, ending now) into an empty "
        "data folder (its own unless --data-dir names one; live capture stays off there)",
    )
    p.add_argument("--days", type=positive_int, default=7, help="days to simulate (default 7)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same events)")
    p.add_argument(
        "--events-per-day",
        type=positive_int,
        default=None,
        help=f"average events a day (default {DEFAULT_EVENTS_PER_DAY:,})",
    )
    p.add_argument("--home", default="/home/demo", help="the simulated home folder")
    p.set_defaults(func=run_demo)
