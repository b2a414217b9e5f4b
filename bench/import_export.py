"""Import/export benchmark: `selflow import jsonl` and `selflow export jsonl` on 200,000 events.

    .venv/bin/python bench/import_export.py [--events 200000]

Rows: (a) plain sqlite3 ``executemany`` of ready-made rows in one transaction (the limit);
(b) importing a JSONL file into an empty database (read twice: validate, then privacy filter and
write); (c) importing the same file again (every event already present: the duplicate lookup);
(d) importing it into a database that already holds as many other events (lookups that miss);
(e) exporting everything back to JSONL. Peak RSS is printed to show memory stays flat.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _events import make_events  # noqa: E402

from selflow_qt.collect.export import export_to  # noqa: E402
from selflow_qt.collect.importers import import_file  # noqa: E402
from selflow_qt.core.event import event_from_dict  # noqa: E402
from selflow_qt.store.context import StoreContext  # noqa: E402
from selflow_qt.store.writer import INSERT_SQL, event_row  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    n = ap.parse_args().events
    tmp = Path(tempfile.mkdtemp(prefix="selflow-bench-"))
    dicts = make_events(n)
    src = tmp / "events.jsonl"
    with src.open("w") as f:
        for d in dicts:
            f.write(json.dumps(d) + "\n")
    rows = [event_row(event_from_dict(d)) for d in dicts]
    del dicts
    results: list[tuple[str, float, int]] = []

    ctx = StoreContext.open(tmp / "plain")
    ctx.close()
    con = sqlite3.connect(tmp / "plain" / "selflow.db")
    t = time.perf_counter()
    with con:
        con.executemany(INSERT_SQL, rows)
    results.append(("plain sqlite3 executemany (limit)", time.perf_counter() - t, len(rows)))
    con.close()
    del rows

    ctx = StoreContext.open(tmp / "a")
    r = import_file(ctx, "jsonl", src)
    results.append(("import jsonl, empty database", r.seconds, r.imported))
    r = import_file(ctx, "jsonl", src)
    results.append(("import again (all already present)", r.seconds, r.duplicates))
    out = tmp / "out.jsonl"
    t = time.perf_counter()
    count = export_to(ctx.db, out)
    results.append(("export jsonl", time.perf_counter() - t, count))
    ctx.close()

    shifted = tmp / "shifted.jsonl"  # the same shapes an hour later: no fingerprint matches
    with src.open() as f, shifted.open("w") as g:
        for line in f:
            d = json.loads(line)
            d["ts"] += 3600.0
            g.write(json.dumps(d) + "\n")
    ctx = StoreContext.open(tmp / "b")
    import_file(ctx, "jsonl", src)
    r = import_file(ctx, "jsonl", shifted)
    results.append((f"import into a database of {n} others", r.seconds, r.imported))
    ctx.close()

    base = results[0][1] / results[0][2]
    print(f"\n{n} events, {src.stat().st_size / 1e6:.1f} MB of JSONL; peak RSS {rss_mb():.0f} MB\n")
    print(f"| {'what':<44} | {'events':>8} | {'seconds':>8} | {'events/s':>9} | {'vs plain':>8} |")
    print(f"| {'-' * 44} | {'-' * 8}:| {'-' * 8}:| {'-' * 9}:| {'-' * 8}:|")
    for name, secs, cnt in results:
        rate = cnt / secs if secs else float("inf")
        ratio = (secs / cnt) / base if cnt else float("nan")
        print(f"| {name:<44} | {cnt:>8} | {secs:>8.2f} | {rate:>9.0f} | {ratio:>7.1f}x |")


if __name__ == "__main__":
    main()
