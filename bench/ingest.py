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


def bench_sqlite(events: list[Event], tmp: str) -> float:
    rows = [event_row(ev) for ev in events]  # the limit: rows already built
    db = fresh_db(tmp)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(INSERT_SQL, rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.close()
    assert count(db) == len(events)
    return seconds


def bench_writer(events: list[Event], tmp: str, privacy: bool) -> float:
    db = fresh_db(tmp)
    writer = EventWriter(db, PrivacyFilter() if privacy else None, max_queue=len(events) + 1)
    writer.start()
    t0 = time.perf_counter()
    for ev in events:
        writer.submit(ev)
    assert writer.flush(timeout=600)
    seconds = time.perf_counter() - t0
    writer.close()
    assert writer.stats.dropped == 0
    assert count(db) == len(events), (count(db), writer.stats)
    return seconds


def ensure_aw_venv() -> Path | None:
    py = AW_VENV / "bin" / "python"
    if not py.exists():
        print("creating bench/.venv-aw with aw-core ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(AW_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "aw-core"], check=True)
    return py if py.exists() else None


def bench_aw(n: int, repeat: int) -> dict[str, float]:
    py = ensure_aw_venv()
    if py is None:
        return {}
    best: dict[str, float] = {}
    for _ in range(repeat):
        out = subprocess.run(
            [str(py), str(HERE / "_aw_ingest.py"), str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in out.stdout.splitlines():
            r = json.loads(line)
            best[r["method"]] = min(best.get(r["method"], float("inf")), r["seconds"])
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--aw-repeat", type=int, default=1, help="aw-core is slow: runs to take")
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
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for label, fn in (
                ("sqlite3 executemany, one transaction (limit)", lambda: bench_sqlite(events, tmp)),
                (
                    "SelFlow EventWriter, no privacy filter",
                    lambda: bench_writer(events, tmp, False),
                ),
                ("SelFlow EventWriter + privacy filter", lambda: bench_writer(events, tmp, True)),
            ):
                results[label] = min(results.get(label, float("inf")), fn())
    results.update(bench_aw(n, args.aw_repeat))
    rates = {k: n / v for k, v in results.items()}
    base = rates["sqlite3 executemany, one transaction (limit)"]
    aw = [v for k, v in rates.items() if k.startswith("aw-core")]
    aw_best = max(aw) if aw else float("nan")
    print(f"\ningest of {n:,} events (best of {args.repeat}; aw-core best of {args.aw_repeat})\n")
    print(f"| {'method':<52} | {'events/s':>10} | {'vs sqlite3':>10} | {'vs aw-core':>10} |")
    print(f"|{'-' * 54}|{'-' * 11}:|{'-' * 11}:|{'-' * 11}:|")
    for label, rate in rates.items():
        print(f"| {label:<52} | {rate:>10,.0f} | {rate / base:>9.2f}x | {rate / aw_best:>9.2f}x |")
    print(
        "\nvs aw-core: against aw-core's faster row (one transaction). "
        "Targets: SelFlow >= 0.8x sqlite3 and >= 3x aw-core."
    )
    print(
        f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
