"""Ingest benchmark: the same events through plain sqlite3, SelFlow's EventWriter and aw-core.

    .venv/bin/python bench/ingest.py [--events 100000] [--rounds 9]

(a) plain sqlite3 ``executemany`` of ready-made row tuples into the same ``events`` table in one
transaction: the limit. (b) SelFlow's ``EventWriter`` (submit every prebuilt Event, then flush),
with and without the privacy filter. (c) ActivityWatch's aw-core ``PeeweeStorage.insert_many``,
as aw-server calls it and inside one transaction; aw-core pins platformdirs==3.10, which clashes
with SelFlow, so it runs in ``bench/.venv-aw`` (created here with ``pip install aw-core`` if missing)
as a subprocess. Every method must store all events.

The machine is shared and its load changes from second to second, so (a) and (b) run interleaved:
each round runs all three back to back (in a rotating order), the ratio to sqlite3 is taken inside
each round, and the table shows the median round with the spread (lowest-highest) beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _events import make_events  # noqa: E402

from selflow_qt.core.event import Event  # noqa: E402
from selflow_qt.core.privacy import PrivacyFilter  # noqa: E402
from selflow_qt.store.db import db_path_for, open_database  # noqa: E402
from selflow_qt.store.rows import ROWS_PER_STATEMENT, execute_rows  # noqa: E402
from selflow_qt.store.writer import INSERT_SQL, EventWriter, event_row  # noqa: E402

AW_VENV = HERE / ".venv-aw"


def fresh_db(tmp: str) -> Path:
    d = Path(tempfile.mkdtemp(dir=tmp))
    open_database(d).close()
    return db_path_for(d)


def count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process, all threads)


def bench_sqlite(events: list[Event], tmp: str, per_statement: int = 1) -> Timing:
    """Rows already built, one transaction: plain executemany (the limit), or the writer's
    statements of ROWS_PER_STATEMENT rows (what SQLite costs the writer)."""
    rows = [event_row(ev) for ev in events]
    db = fresh_db(tmp)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    t0, c0 = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    if per_statement == 1:
        conn.executemany(INSERT_SQL, rows)
    else:
        execute_rows(conn, rows)
    conn.execute("COMMIT")
    timing = (time.perf_counter() - t0, time.process_time() - c0)
    conn.close()
    assert count(db) == len(events)
    return timing


def bench_writer(events: list[Event], tmp: str, privacy: bool) -> Timing:
    db = fresh_db(tmp)
    writer = EventWriter(db, PrivacyFilter() if privacy else None, max_queue=len(events) + 1)
    writer.start()
    t0, c0 = time.perf_counter(), time.process_time()
    for ev in events:
        writer.submit(ev)
    assert writer.flush(timeout=600)
    timing = (time.perf_counter() - t0, time.process_time() - c0)
    writer.close()
    assert writer.stats.dropped == 0
    assert count(db) == len(events), (count(db), writer.stats)
    return timing


def ensure_aw_venv() -> Path | None:
    py = AW_VENV / "bin" / "python"
    if not py.exists():
        print("creating bench/.venv-aw with aw-core ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(AW_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "aw-core"], check=True)
    return py if py.exists() else None


def bench_aw(n: int, repeat: int) -> dict[str, list[Timing]]:
    py = ensure_aw_venv()
    if py is None:
        return {}
    runs: dict[str, list[Timing]] = {}
    for _ in range(repeat):
        out = subprocess.run(
            [str(py), str(HERE / "_aw_ingest.py"), str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in out.stdout.splitlines():
            r = json.loads(line)
            runs.setdefault(r["method"], []).append((r["seconds"], r["cpu"]))
    return runs


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def spread(values: list[float], fmt: str) -> str:
    """The median with the lowest and highest beside it."""
    return f"{format(median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=9, help="interleaved rounds (median taken)")
    ap.add_argument("--aw-repeat", type=int, default=1, help="aw-core is slow: runs to take")
    ap.add_argument("--no-aw", action="store_true", help="skip aw-core (no venv, no network)")
    args = ap.parse_args()
    n = args.events
    events = [Event(**d) for d in make_events(n)]
    limit = "sqlite3 executemany, one transaction (limit)"
    many = f"sqlite3, {ROWS_PER_STATEMENT} rows a statement (as the writer)"
    methods = {
        limit: lambda tmp: bench_sqlite(events, tmp),
        many: lambda tmp: bench_sqlite(events, tmp, ROWS_PER_STATEMENT),
        "SelFlow EventWriter, no privacy filter": lambda tmp: bench_writer(events, tmp, False),
        "SelFlow EventWriter + privacy filter": lambda tmp: bench_writer(events, tmp, True),
    }
    rounds: list[dict[str, Timing]] = []
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            labels = list(methods)
            labels = labels[r % len(labels) :] + labels[: r % len(labels)]  # none always first
            rounds.append({label: methods[label](tmp) for label in labels})
    load_after = load_average()
    aw_runs = {} if args.no_aw else bench_aw(n, args.aw_repeat)

    def per_event(label: str, i: int) -> list[float]:
        return [rd[label][i] / n * 1e6 for rd in rounds]

    def ratios(label: str, i: int) -> list[float]:
        return [rd[limit][i] / rd[label][i] for rd in rounds]

    print(f"\ningest of {n:,} events, {args.rounds} interleaved rounds: median (lowest-highest)\n")
    head = ("us/event", "vs sqlite3", "CPU us/event", "CPU vs sqlite3")
    print(f"| {'method':<46} | " + " | ".join(f"{h:>19}" for h in head) + " |")
    print(f"|{'-' * 48}|" + "|".join(f"{'-' * 20}:" for _ in head) + "|")
    for label in methods:
        cells = (
            spread(per_event(label, 0), ".2f"),
            spread(ratios(label, 0), ".2f"),
            spread(per_event(label, 1), ".2f"),
            spread(ratios(label, 1), ".2f"),
        )
        print(f"| {label:<46} | " + " | ".join(f"{c:>19}" for c in cells) + " |")
    for label, runs in aw_runs.items():
        wall, cpu = median(t[0] for t in runs), median(t[1] for t in runs)
        base_wall = median(rd[limit][0] for rd in rounds)
        base_cpu = median(rd[limit][1] for rd in rounds)
        cells = (
            f"{wall / n * 1e6:.2f}",
            f"{base_wall / wall:.2f}",
            f"{cpu / n * 1e6:.2f}",
            f"{base_cpu / cpu:.2f}",
        )
        print(f"| {label[:46]:<46} | " + " | ".join(f"{c:>19}" for c in cells) + " |")
    writer, full = "SelFlow EventWriter, no privacy filter", "SelFlow EventWriter + privacy filter"
    own = [(rd[full][0] - rd[limit][0]) / n * 1e6 for rd in rounds]
    own_cpu = [(rd[full][1] - rd[limit][1]) / n * 1e6 for rd in rounds]
    filt = [(rd[full][1] - rd[writer][1]) / n * 1e6 for rd in rounds]
    print(
        f"\nSelFlow's own cost (writer + filter over sqlite3): {spread(own_cpu, '.2f')} us/event"
        f" of CPU, {spread(own, '.2f')} wall; the filter alone (CPU, + filter over no filter):"
        f" {spread(filt, '.2f')} us/event."
        "\nus/event: wall clock from the first submit to the last commit, over the events."
        " CPU: this process's CPU time (all threads). vs sqlite3: sqlite3's time over the method's"
        " in the same round (higher is faster; 1.00x is the limit).\nTargets: writer + filter"
        " >= 0.6x sqlite3 by wall time under load, < 5 us an event of its own."
        f"\npython {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()}"
        f" cpus, load average {load_before} before, {load_after} after"
        + (f"; aw-core: median of {args.aw_repeat} run(s), after the rounds" if aw_runs else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
