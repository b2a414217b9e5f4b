"""Fault harness: kill SelFlow's real processes at random moments under real activity, restart
them as a user would, and check what survived.

    .venv/bin/python bench/faults.py [--kills 200] [--targets collect,analyze] [--seed 1] [--json]

Targets:

- ``collect``: ``selflow collect`` (files and the shell hook's spool) while a thread creates a
  file in its watched folder every ~50 ms and appends a finished command to a shell-hook spool
  file every ~200 ms, whether the collector is up or down. Each kill is a SIGKILL or a SIGTERM
  (half each), at a random moment: during the start and catch-up (1 in 5) or 0-3 s after it
  reported watching. Then it is restarted.
- ``analyze``: ``selflow analyze`` on a demo week, killed 0.3-6 s after it started.

After each kill: ``PRAGMA integrity_check`` is ok; every event committed before (the rows seen
after the previous kills) is still there; no process of this run is left alive 2.5 s later
(every child carries a marker in its environment); the private temp folder the processes use does
not grow; a killed analysis is not left ``running``. At the end one clean run catches up, and
every file created and every command appended is stored exactly once: none lost, none twice.
Recovery is the time from the restart to the collector reporting it watches (after its
catch-up); for ``analyze``, to ``selflow status`` answering on the data it left.

Exit status 1 when an invariant broke.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARK = "SELFLOW_FAULTS_RUN"  # in every child's environment: how orphans are found


@dataclass
class TargetReport:
    """One target's kills and what they broke."""

    target: str
    kills: dict[str, int] = field(default_factory=lambda: {"SIGKILL": 0, "SIGTERM": 0})
    held: int = 0  # kills after which every per-kill check held (the final counts aside)
    lost: int = 0  # committed events gone, plus activity never stored
    duplicates: int = 0
    orphans: int = 0
    integrity_failures: int = 0
    left_running: int = 0  # analysis runs a kill left marked running
    temp_growth: int = 0
    caught_up: int = 0  # files created while the collector was down
    recovery_s: list[float] = field(default_factory=list)

    def row(self) -> list[str]:
        r = sorted(self.recovery_s)
        rec = f"{statistics.median(r):.2f} / {r[-1]:.2f}" if r else "-"
        total = sum(self.kills.values())
        return [
            self.target,
            f"{self.kills['SIGKILL']} + {self.kills['SIGTERM']}",
            f"{self.held}/{total}",
            str(self.lost),
            str(self.duplicates),
            str(self.orphans),
            str(self.integrity_failures),
            str(self.left_running),
            str(self.temp_growth),
            str(self.caught_up),
            rec,
        ]


HEADER = [
    "target",
    "kills (KILL+TERM)",
    "per-kill checks held",
    "events lost",
    "duplicates",
    "orphans",
    "integrity fails",
    "left running",
    "temp growth",
    "caught up",
    "recovery p50 / max s",
]


class Run:
    """One harness run: a private folder for the data, the watched folder and TMPDIR."""

    def __init__(self, base: Path, seed: int) -> None:
        self.base = base
        self.rng = random.Random(seed)
        self.marker = uuid.uuid4().hex
        self.orphan_lines: list[str] = []
        self.home, self.tmp = base / "home", base / "tmp"
        for d in (self.home, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            MARK: self.marker,
            "HOME": str(self.home),  # no real shell history is read
            "TMPDIR": str(self.tmp),
            "PYTHONUNBUFFERED": "1",
        }

    def selflow(self, data_dir: Path, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir), *args],
            cwd=REPO,
            env={**self.env, "SELFLOW_DATA_DIR": str(data_dir)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def alive(self) -> list[int]:
        """Pids of processes that carry this run's marker."""
        want = f"{MARK}={self.marker}".encode()
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if want in f.read().split(b"\0"):
                        with open(f"/proc/{entry}/stat", "rb") as s:
                            if s.read().split(b") ")[-1][:1] != b"Z":
                                out.append(int(entry))
            except OSError:
                continue
        return out

    def orphans_after(self, grace: float = 2.5) -> int:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not self.alive():
                return 0
            time.sleep(0.1)
        left = self.alive()
        for pid in left:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                cmd = "?"
            self.orphan_lines.append(f"{pid}: {cmd[:200]}")
        for pid in left:  # leave nothing behind for the next kill
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return len(left)

    def temp_entries(self) -> int:
        return len(os.listdir(self.tmp))

    def temp_names(self) -> list[str]:
        return sorted(os.listdir(self.tmp))


def _query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql, params).fetchall()


def integrity_ok(db: Path) -> bool:
    try:
        return _query(db, "PRAGMA integrity_check") == [("ok",)]
    except sqlite3.Error:
        return False


def stop(proc: subprocess.Popen, sig: int, timeout: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# -- the collector ---------------------------------------------------------------------------
class Activity(threading.Thread):
    """Files created one by one in the watched folder and commands appended to a hook spool."""

    def __init__(self, root: Path, spool: Path, period: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.spool, self.period = root, spool, period
        self.files: list[str] = []
        self.commands: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stopping.wait(self.period):
            p = self.root / f"f{i:06d}.txt"
            p.write_text(f"file {i}\n")
            self.files.append(str(p))
            if i % 4 == 0:
                self.command(f"echo faults {i}")
            i += 1

    def command(self, cmd: str) -> None:
        t = time.time()
        head = f"\x1ev1 zsh faults {t - 0.01:.6f} {t:.6f} 0 - raw".encode()
        rec = head + b"\0" + str(self.root).encode() + b"\0" + cmd.encode() + b"\0\n"
        fd = os.open(self.spool, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, rec)  # one write: a record is never torn by the harness itself
        finally:
            os.close(fd)
        self.commands.append(cmd)


def _watching(db: Path, pid: int, proc: subprocess.Popen, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            rows = dict(
                _query(db, "SELECT name, detail FROM collector_status WHERE pid = ?", (pid,))
            )
            if rows.get("fs", "").startswith("watching") and "shell-hook" in rows:
                return True
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    return False


def fault_collect(run: Run, kills: int, report: TargetReport, log) -> None:
    data, root = run.base / "collect-data", run.base / "watched"
    root.mkdir()
    spool_dir = data / "shell"
    spool_dir.mkdir(parents=True, mode=0o700)
    db = data / "selflow.db"
    args = ("collect", "--roots", str(root), "--no-apps")
    activity = Activity(root, spool_dir / f"zsh.{os.getpid()}.faults.spool")
    proc = run.selflow(data, *args)
    if not _watching(db, proc.pid, proc):
        raise RuntimeError("selflow collect never started watching")
    temp0 = run.temp_entries()
    acked: set[int] = set()
    activity.start()
    try:
        for k in range(kills):
            if run.rng.random() < 0.2:  # during the start and its catch-up
                time.sleep(run.rng.uniform(0.1, 1.5))
            else:
                time.sleep(run.rng.uniform(0.0, 3.0))
            sig = run.rng.choice((signal.SIGKILL, signal.SIGTERM))
            down_from = len(activity.files)
            stop(proc, sig)
            report.kills[sig.name] += 1
            orphans = run.orphans_after()
            ok = integrity_ok(db)
            ids = {r[0] for r in _query(db, "SELECT id FROM events")}
            lost = len(acked - ids)
            acked |= ids
            time.sleep(run.rng.uniform(0.0, 1.0))  # down a while: files appear meanwhile
            t0 = time.monotonic()
            proc = run.selflow(data, *args)
            up = _watching(db, proc.pid, proc)
            report.recovery_s.append(time.monotonic() - t0)
            report.caught_up += len(activity.files) - down_from
            grew = max(0, run.temp_entries() - temp0)
            report.orphans += orphans
            report.integrity_failures += not ok
            report.lost += lost
            report.temp_growth = max(report.temp_growth, grew)
            if up and ok and not orphans and not lost and not grew:
                report.held += 1
            log(f"collect kill {k + 1}/{kills}: {sig.name}, {len(ids)} events, "
                f"orphans {orphans}, integrity {'ok' if ok else 'FAILED'}, lost {lost}, "
                f"recovered in {report.recovery_s[-1]:.2f} s")  # fmt: skip
    finally:
        activity.stopping.set()
        activity.join(10)
    time.sleep(1.0)
    stop(proc, signal.SIGTERM)  # the last run: nothing to catch up after it
    proc = run.selflow(data, *args)
    _watching(db, proc.pid, proc)
    time.sleep(1.5)
    stop(proc, signal.SIGTERM)
    report.orphans += run.orphans_after()
    ids = {r[0] for r in _query(db, "SELECT id FROM events")}
    report.lost += len(acked - ids)
    creates: dict[str, int] = {}
    for (p,) in _query(db, "SELECT path FROM events WHERE source='fs' AND action='create'"):
        creates[p] = creates.get(p, 0) + 1
    cmds: dict[str, int] = {}
    for (c,) in _query(db, "SELECT cmd FROM events WHERE source='shell'"):
        cmds[c] = cmds.get(c, 0) + 1
    lost_files = [p for p in activity.files if p not in creates]
    lost_cmds = [c for c in activity.commands if c not in cmds]
    twice_files = sum(n - 1 for p, n in creates.items() if n > 1 and p in activity.files)
    twice_cmds = sum(n - 1 for n in cmds.values() if n > 1)
    report.lost += len(lost_files) + len(lost_cmds)
    report.duplicates += twice_files + twice_cmds
    log(f"collect: {len(activity.files)} files ({len(lost_files)} never stored, {twice_files} "
        f"twice), {len(activity.commands)} commands ({len(lost_cmds)} never stored, "
        f"{twice_cmds} twice){': ' if lost_files or lost_cmds else ''}"
        f"{', '.join((lost_files + lost_cmds)[:5])}")  # fmt: skip


# -- the analysis ----------------------------------------------------------------------------
def fault_analyze(run: Run, kills: int, report: TargetReport, log) -> None:
    data = run.base / "analyze-data"
    seeded = subprocess.run(
        [sys.executable, "-m", "selflow_qt", "--data-dir", str(data), "demo", "--days", "3"],
        cwd=REPO,
        env=run.env,
        capture_output=True,
        timeout=600,
    )
    if seeded.returncode != 0:
        raise RuntimeError(f"selflow demo failed: {seeded.stderr.decode()[-500:]}")
    db = data / "selflow.db"
    temp0 = run.temp_entries()
    before = _query(db, "SELECT count(*) FROM events")[0][0]
    for k in range(kills):
        proc = run.selflow(data, "analyze")
        time.sleep(run.rng.uniform(0.3, 6.0))
        finished = proc.poll() is not None
        sig = run.rng.choice((signal.SIGKILL, signal.SIGTERM))
        stop(proc, sig)
        report.kills[sig.name] += 1
        orphans = run.orphans_after()
        ok = integrity_ok(db)
        running = _query(db, "SELECT count(*) FROM analysis_runs WHERE status = 'running'")[0][0]
        lost = before - _query(db, "SELECT count(*) FROM events")[0][0]
        t0 = time.monotonic()
        status = subprocess.run(
            [sys.executable, "-m", "selflow_qt", "--data-dir", str(data), "status"],
            cwd=REPO,
            env=run.env,
            capture_output=True,
            timeout=120,
        )
        report.recovery_s.append(time.monotonic() - t0)
        grew = max(0, run.temp_entries() - temp0)
        report.orphans += orphans
        report.integrity_failures += not ok
        report.lost += max(0, lost)
        report.left_running = running
        report.temp_growth = max(report.temp_growth, grew)
        if ok and not orphans and lost <= 0 and not grew and status.returncode == 0:
            report.held += 1 if not running else 0
        log(f"analyze kill {k + 1}/{kills}: {sig.name}{' (had finished)' if finished else ''}, "
            f"orphans {orphans}, integrity {'ok' if ok else 'FAILED'}, runs left running "
            f"{running}, status exit {status.returncode}")  # fmt: skip
        if orphans:
            log("  left alive: " + "; ".join(run.orphan_lines[-orphans:]))
        if grew:
            log("  temp folder: " + ", ".join(run.temp_names()))


TARGETS = {"collect": fault_collect, "analyze": fault_analyze}


def table(reports: list[TargetReport]) -> str:
    rows = [HEADER] + [r.row() for r in reports]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def broken(r: TargetReport) -> bool:
    return bool(
        r.lost or r.duplicates or r.orphans or r.integrity_failures or r.left_running
        or r.temp_growth or r.held < sum(r.kills.values())
    )  # fmt: skip


def run_faults(
    kills: int, targets: list[str], seed: int = 1, quiet: bool = False
) -> list[TargetReport]:
    """Spread ``kills`` over ``targets``; one report per target."""
    log = (lambda s: None) if quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    reports = []
    with tempfile.TemporaryDirectory(prefix="selflow-faults-") as tmp:
        run = Run(Path(tmp), seed)
        share = [kills // len(targets) + (i < kills % len(targets)) for i in range(len(targets))]
        for name, n in zip(targets, share, strict=True):
            report = TargetReport(name)
            TARGETS[name](run, n, report, log)
            reports.append(report)
    return reports


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=200, help="kills in all, spread over targets")
    ap.add_argument(
        "--targets", default="collect,analyze", help="comma-separated: " + ",".join(TARGETS)
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the reports as JSON")
    args = ap.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    reports = run_faults(args.kills, targets, args.seed)
    if args.json:
        print(json.dumps([asdict(r) for r in reports], indent=2))
    else:
        print(table(reports))
    return 1 if any(broken(r) for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
