"""Ingest benchmark: the same events through plain sqlite3, SelFlow's EventWriter and aw-core.

    .venv/bin/python bench/ingest.py [--events 200000] [--repeat 3]

(a) plain sqlite3 ``executemany`` of ready-made row tuples into the same ``events`` table in one
transaction: the limit. (b) SelFlow's ``EventWriter`` (submit every prebuilt Event, then flush),
with and without the privacy filter. (c) ActivityWatch's aw-core ``PeeweeStorage.insert_many``,
as aw-server calls it and inside one transaction; aw-core pins platformdirs==3.10, which clashes
with SelFlow, so it runs in ``bench/.venv-aw`` (created here with ``pip install aw-core`` if missing)
as a subprocess. Best of ``--repeat`` runs; every method must store all events.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _events import make_events  # noqa: E402

from selflow_qt.core.event import Event  # noqa: E402
from selflow_qt.core.privacy import PrivacyFilter  # noqa: E402
from selflow_qt.store.db import db_path_for, open_database  # noqa: E402
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


def bench_sqlite(events: list[Event], tmp: str) -> Timing:
    rows = [event_row(ev) for ev in events]  # the limit: rows already built
    db = fresh_db(tmp)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    t0, c0 = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    conn.executemany(INSERT_SQL, rows)
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


def bench_aw(n: int, repeat: int) -> dict[str, Timing]:
    py = ensure_aw_venv()
    if py is None:
        return {}
    best: dict[str, Timing] = {}
    for _ in range(repeat):
        out = subprocess.run(
            [str(py), str(HERE / "_aw_ingest.py"), str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in out.stdout.splitlines():
            r = json.loads(line)
            _keep_best(best, r["method"], (r["seconds"], r["cpu"]))
    return best


def _keep_best(results: dict[str, Timing], label: str, timing: Timing) -> None:
    old = results.get(label, (float("inf"), float("inf")))
    results[label] = (min(old[0], timing[0]), min(old[1], timing[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--aw-repeat", type=int, default=1, help="aw-core is slow: runs to take")
    ap.add_argument("--no-aw", action="store_true", help="skip aw-core (no venv, no network)")
    args = ap.parse_args()
    n = args.events
    events = [
        Event(
            ts=d["ts"],
            source=d["source"],
            action=d["action"],
            tz_offset=d["tz_offset"],
            path=d.get("path"),
            app=d.get("app"),
            cmd=d.get("cmd"),
            cwd=d.get("cwd"),
            duration=d.get("duration"),
            meta=d["meta"],
        )
        for d in make_events(n)
    ]
    results: dict[str, Timing] = {}
    limit = "sqlite3 executemany, one transaction (limit)"
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):  # interleaved, so a busy moment hits every method alike
            for label, fn in (
                (limit, lambda: bench_sqlite(events, tmp)),
                (
                    "SelFlow EventWriter, no privacy filter",
                    lambda: bench_writer(events, tmp, False),
                ),
                ("SelFlow EventWriter + privacy filter", lambda: bench_writer(events, tmp, True)),
            ):
                _keep_best(results, label, fn())
    if not args.no_aw:
        results.update(bench_aw(n, args.aw_repeat))
    rates = {k: n / v[0] for k, v in results.items()}
    cpu_rates = {k: n / v[1] for k, v in results.items()}
    aw = [k for k in rates if k.startswith("aw-core")]
    aw_key = max(aw, key=lambda k: rates[k]) if aw else None
    print(f"\ningest of {n:,} events (best of {args.repeat}; aw-core best of {args.aw_repeat})\n")
    head = ("events/s", "vs sqlite3", "vs aw-core", "events/CPU-s", "CPU vs sqlite3")
    print(f"| {'method':<52} | " + " | ".join(f"{h:>14}" for h in head) + " |")
    print(f"|{'-' * 54}|" + "|".join(f"{'-' * 15}:" for _ in head) + "|")
    for label in rates:
        cells = (
            f"{rates[label]:,.0f}",
            f"{rates[label] / rates[limit]:.2f}x",
            f"{rates[label] / rates[aw_key]:.2f}x" if aw_key else "-",
            f"{cpu_rates[label]:,.0f}",
            f"{cpu_rates[label] / cpu_rates[limit]:.2f}x",
        )
        print(f"| {label:<52} | " + " | ".join(f"{c:>14}" for c in cells) + " |")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        "\nevents/s: wall clock from the first submit to the last commit. events/CPU-s: the same"
        " events over this process's CPU time (all threads), steadier on a busy machine."
        " vs aw-core: against aw-core's faster row.\nTargets: SelFlow >= 0.8x sqlite3 and"
        f" >= 3x aw-core.\npython {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version},"
        f" {os.cpu_count()} cpus, load average {load}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
