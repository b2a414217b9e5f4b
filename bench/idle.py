"""Idle benchmark: what the collection service costs while nothing happens.

    .venv/bin/python bench/idle.py [--seconds 60]

Starts ``selflow collect`` (fs on an idle temp folder, apps, shell) in a child process with a
fresh data folder, waits until its collectors report running, then samples the child's CPU
(% of one core) and RSS with psutil once a second. Targets: CPU < 1 % of a core, RSS < 80 MB.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent


def wait_running(db: Path, want: int, timeout: float = 60.0) -> list[tuple]:
    deadline = time.monotonic() + timeout
    rows: list[tuple] = []
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db) as conn:
                rows = conn.execute("SELECT name, state, detail FROM collector_status").fetchall()
            if len(rows) >= want and all(r[2] != "starting" for r in rows):
                return rows
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, root = Path(tmp) / "data", Path(tmp) / "idle"
        root.mkdir()
        for i in range(200):  # a small, quiet tree to watch
            d = root / f"d{i // 20}"
            d.mkdir(exist_ok=True)
            (d / f"f{i}.txt").write_text("x")
        env = {**os.environ, "SELFLOW_DATA_DIR": str(data)}
        cmd = [sys.executable, "-m", "selflow_qt", "--data-dir", str(data), "collect",
               "--roots", str(root), "--seconds", str(args.seconds + 120)]  # fmt: skip
        child = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
        try:
            rows = wait_running(data / "selflow.db", 3)
            time.sleep(2.0)  # let the start-up work finish
            proc = psutil.Process(child.pid)
            proc.cpu_percent(None)
            cpu, rss = [], []
            t_end = time.monotonic() + args.seconds
            while time.monotonic() < t_end:
                time.sleep(1.0)
                cpu.append(proc.cpu_percent(None))
                rss.append(proc.memory_info().rss / 1e6)
            times = proc.cpu_times()
        finally:
            child.terminate()
            child.wait(30)
    mean_cpu, max_cpu, max_rss = statistics.mean(cpu), max(cpu), max(rss)
    print(f"\nidle collection service over {args.seconds:g} s ({len(cpu)} samples, 1/s)\n")
    print("| measure                   |   value | target | ok |")
    print("|---------------------------|--------:|-------:|----|")
    print(
        f"| mean CPU (% of one core)  | {mean_cpu:7.2f} |   < 1  | {'yes' if mean_cpu < 1 else 'NO'} |"
    )
    print(f"| max CPU, one 1-s sample   | {max_cpu:7.2f} |    -   |    |")
    print(
        f"| max RSS (MB)              | {max_rss:7.1f} |  < 80  | {'yes' if max_rss < 80 else 'NO'} |"
    )
    print(f"\nchild cpu times at the end: user {times.user:.2f} s, system {times.system:.2f} s")
    for name, state, detail in rows:
        print(f"collector {name}: {state} - {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
