"""`selflow demo`: write a simulated week of work into the database."""

from __future__ import annotations

import argparse
import time

from selflow_qt.demo.generator import DEFAULT_EVENTS_PER_DAY, write_demo


def run_demo(args: argparse.Namespace) -> int:
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(args.data_dir)
    try:
        t = time.perf_counter()
        n = write_demo(
            ctx, days=args.days, seed=args.seed, events_per_day=args.events_per_day, home=args.home
        )
        print(
            f"wrote {n:,} demo events ({args.days} days, seed {args.seed}) to {ctx.db_path} "
            f"in {time.perf_counter() - t:.1f} s"
        )
    finally:
        ctx.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="write a simulated week of work (five workflows + noise) into the database"
    )
    p.add_argument("--days", type=int, default=7, help="days to simulate (default 7)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same events)")
    p.add_argument(
        "--events-per-day",
        type=int,
        default=None,
        help=f"average events a day (default {DEFAULT_EVENTS_PER_DAY:,})",
    )
    p.add_argument("--home", default="/home/demo", help="the simulated home folder")
    p.set_defaults(func=run_demo)
