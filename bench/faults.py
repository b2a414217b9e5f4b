"""Fault harness: kill SelFlow's real processes at random moments under real activity, restart
them as a user would, and check what survived.

    .venv/bin/python bench/faults.py [--kills 200] [--targets collect,analyze,tray,train,refit]
                                     [--seed 1] [--json]

Only public entry points are started (`selflow collect`, `selflow analyze`, `selflow train`,
`selflow` for the desktop app); children are found as the processes' children. Targets:

- ``collect``: ``selflow collect`` (files and the shell hook's spool) while a thread creates a
  file in its watched folder every ~50 ms and appends a finished command to a shell-hook spool
  file every ~200 ms, whether the collector is up or down. Each kill is a SIGKILL or a SIGTERM
  (half each), at a random moment: during the start and catch-up (1 in 5) or 0-3 s after it
  reported watching. Then it is restarted.
- ``tray``: the desktop app on an X server (Xvfb, with trayer's system tray where installed),
  collecting the same stream; killed and restarted the same way. A restart whose log says
  anything about damaged data (a dialog), or shows a traceback, counts as restart trouble.
- ``analyze``: ``selflow analyze`` on a demo, killed 0.3-6 s after it started.
- ``train``: ``selflow train`` (3 steps) on a demo: its training child (half) or `selflow train`
  itself, killed 0-8 s after the child started; the next ``selflow train`` is the restart.
- ``refit``: ``selflow train`` once, then ``selflow collect`` serving the shell prompt while
  commands stream in through the hook's spool (~200 a second): the collector starts a refit
  child after every 1,000 new events, and each is killed 0-3 s after it started.

After each kill: ``PRAGMA integrity_check`` is ok; every event committed before (the rows seen
after the previous kills) is still there; no process of this run is left alive 2.5 s later
(every child carries a marker in its environment); the private temp folder the processes use does
not grow (a killed run's own folder may stay until the next start removes it); a killed analysis
or training is not left ``running`` once the next one started. At the end one clean run catches
up, and every file created and every command appended is stored exactly once: none lost, none
twice. Recovery is the time from the restart to the collector reporting it watches (after its
catch-up); for ``analyze``, to ``selflow status`` answering on the data it left; for ``train``,
from the kill to the next training child running; for ``refit``, from the kill (or the start) to
the next refit child, which waits for 1,000 new events.

Exit status 1 when an invariant broke.

Diagnostics (the defaults change nothing): ``SELFLOW_FAULTS_LOGS=DIR`` keeps each started
process's stderr, with ``-v`` (every committed batch logged), in ``DIR``; the kill lines carry
the kill's wall time, to set against the lost items' creation times. ``SELFLOW_FAULTS_EARLY=P``
kills that share of the collector's restarts 0.2-2.5 s after they started, before they report
watching (a kill in the start and its catch-up; how the lost WAL of issue 27 was reproduced).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
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

import psutil

REPO = Path(__file__).resolve().parent.parent
MARK = "SELFLOW_FAULTS_RUN"  # in every child's environment: how orphans are found
LOGS_ENV = "SELFLOW_FAULTS_LOGS"  # a folder: the started processes' stderr kept there
EARLY_ENV = "SELFLOW_FAULTS_EARLY"  # a share of restarts killed before they report watching


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
    left_running: int = 0  # analysis runs or trainings a kill left marked running
    problems: int = 0  # restarts that said something about their data (a dialog, a traceback)
    temp_growth: int = 0
    caught_up: int = 0  # files created while the collector was down
    recovery_s: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # what the run logged (for a failure's message)

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
            str(self.problems),
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
    "restart trouble",
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
        self.starts = 0
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
        """`selflow --data-dir DATA ARGS` started; with SELFLOW_FAULTS_LOGS (a folder) its stderr,
        with -v, is kept there, one file a start (for diagnosing a failure)."""
        logs, err, verbose = os.environ.get(LOGS_ENV), None, ()
        if logs:
            self.starts += 1
            err = open(Path(logs) / f"{self.starts:03d}-{args[0]}.log", "wb")  # noqa: SIM115
            verbose = ("-v",)
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "selflow_qt", *verbose, "--data-dir", str(data_dir), *args],
                cwd=REPO,
                env={**self.env, "SELFLOW_DATA_DIR": str(data_dir)},
                stdout=subprocess.DEVNULL,
                stderr=err or subprocess.DEVNULL,
            )
        finally:
            if err is not None:
                err.close()

    def selflow_done(
        self, data_dir: Path, *args: str, timeout: float = 900
    ) -> subprocess.CompletedProcess:
        """`selflow --data-dir DATA ARGS` run to its end, output captured."""
        return subprocess.run(
            [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            timeout=timeout,
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

    def orphans_after(self, grace: float = 2.5, keep: frozenset[int] = frozenset()) -> int:
        """Processes of this run still alive ``grace`` seconds on (``keep``: the ones meant to
        live on, such as a collector whose child was killed); they are killed."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not set(self.alive()) - keep:
                return 0
            time.sleep(0.1)
        left = [p for p in self.alive() if p not in keep]
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
        self.created: dict[str, float] = {}
        self.commands: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stopping.wait(self.period):
            p = self.root / f"f{i:06d}.txt"
            self.created[str(p)] = time.time()
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


def _collector_kills(
    run: Run,
    kills: int,
    report: TargetReport,
    log,
    data: Path,
    root: Path,
    launch,
    check_start=None,
) -> None:
    """Kill the process ``launch(data)`` starts (one that collects into ``data``) ``kills``
    times under a stream of files in ``root`` and hook commands, restarting it after each."""
    label = report.target
    spool_dir = data / "shell"
    spool_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    db = data / "selflow.db"
    activity = Activity(root, spool_dir / f"zsh.{os.getpid()}.faults.spool")
    proc = launch()
    if not _watching(db, proc.pid, proc, timeout=300):
        raise RuntimeError(f"{label}: the collector never started watching")
    temp0 = run.temp_entries()
    acked: set[int] = set()
    # Diagnostics: SELFLOW_FAULTS_EARLY=P kills that share of the restarts 0.2-2.5 s after they
    # started, before they report watching (their recovery is not measured).
    early_share = float(os.environ.get(EARLY_ENV) or 0)
    early_rng, early = random.Random(run.rng.random() if early_share else 0), False
    activity.start()
    try:
        for k in range(kills):
            if early:
                time.sleep(early_rng.uniform(0.2, 2.5))
            elif run.rng.random() < 0.2:  # during the start and its catch-up
                time.sleep(run.rng.uniform(0.1, 1.5))
            else:
                time.sleep(run.rng.uniform(0.0, 3.0))
            sig = run.rng.choice((signal.SIGKILL, signal.SIGTERM))
            down_from = len(activity.files)
            killed_at = time.time()
            stop(proc, sig)
            report.kills[sig.name] += 1
            orphans = run.orphans_after()
            ok = integrity_ok(db)
            ids = {r[0] for r in _query(db, "SELECT id FROM events")}
            lost = len(acked - ids)
            acked |= ids
            time.sleep(run.rng.uniform(0.0, 1.0))  # down a while: files appear meanwhile
            t0 = time.monotonic()
            proc = launch()
            early = early_rng.random() < early_share
            up = early or _watching(db, proc.pid, proc, timeout=300)
            if not early:
                report.recovery_s.append(time.monotonic() - t0)
            report.caught_up += len(activity.files) - down_from
            grew = max(0, run.temp_entries() - temp0)
            started_clean = check_start() if check_start is not None else ""
            report.orphans += orphans
            report.integrity_failures += not ok
            report.lost += lost
            report.temp_growth = max(report.temp_growth, grew)
            report.problems += bool(started_clean)
            if up and ok and not orphans and not lost and not grew and not started_clean:
                report.held += 1
            recovered = (
                "restarted, killed before it watched"
                if early
                else f"recovered in {report.recovery_s[-1]:.2f} s"
            )
            log(f"{label} kill {k + 1}/{kills} at {killed_at:.3f}: {sig.name}, {len(ids)} events, "
                f"orphans {orphans}, integrity {'ok' if ok else 'FAILED'}, lost {lost}, "
                f"{recovered}"
                f"{'' if up else ' (NOT watching)'}{'; ' + started_clean if started_clean else ''}")  # fmt: skip
            if orphans:
                log("  left alive: " + "; ".join(run.orphan_lines[-orphans:]))
    finally:
        activity.stopping.set()
        activity.join(10)
    time.sleep(1.0)
    stop(proc, signal.SIGTERM)  # the last run: nothing to catch up after it
    proc = launch()
    _watching(db, proc.pid, proc, timeout=300)
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
    stored_as, lost_files, lost_cmds, twice_files, twice_cmds = stored_once(
        activity.files, activity.commands, creates, cmds
    )
    report.lost += len(lost_files) + len(lost_cmds)
    report.duplicates += twice_files + twice_cmds
    log(f"{label}: {len(activity.files)} files ({len(lost_files)} never stored, {twice_files} "
        f"twice), {len(activity.commands)} commands ({len(lost_cmds)} never stored, "
        f"{twice_cmds} twice){': ' if lost_files or lost_cmds else ''}"
        f"{', '.join((lost_files + lost_cmds)[:5])}")  # fmt: skip
    for p in lost_files[:5]:  # what the database holds for a file whose create is missing
        rows = _query(db, "SELECT action, ts, meta FROM events WHERE path = ?", (stored_as[p],))
        log(f"  {p}: created {activity.created.get(p, 0):.3f}, stored {rows}")


def stored_once(
    files: list[str], commands: list[str], creates: dict[str, int], cmds: dict[str, int]
) -> tuple[dict[str, str], list[str], list[str], int, int]:
    """Each file and command as the privacy filter stores it ({file: stored path}), those never
    stored, and the extra copies. A random temp folder name such as "o8ip4b8r" (3% of mkdtemp's
    names) reads as a token and is stored redacted: compared raw, every file under it looked
    lost (a clean CI run failed so)."""
    sys.path.insert(0, str(REPO))
    from selflow_qt.core.privacy import PrivacyFilter

    flt = PrivacyFilter()
    stored_as = {p: flt.redact(p) for p in files}
    lost_files = [p for p in files if stored_as[p] not in creates]
    lost_cmds = [c for c in commands if flt.redact(c) not in cmds]
    wanted = set(stored_as.values())
    twice_files = sum(n - 1 for p, n in creates.items() if n > 1 and p in wanted)
    twice_cmds = sum(n - 1 for n in cmds.values() if n > 1)
    return stored_as, lost_files, lost_cmds, twice_files, twice_cmds


def fault_collect(run: Run, kills: int, report: TargetReport, log) -> None:
    data, root = run.base / "collect-data", run.base / "watched"
    root.mkdir()
    args = ("collect", "--roots", str(root), "--no-apps")
    _collector_kills(run, kills, report, log, data, root, lambda: run.selflow(data, *args))


# -- the tray app ----------------------------------------------------------------------------
class XServer:
    """Xvfb on a free display, with trayer docked where it is installed (a real system tray)."""

    def __init__(self) -> None:
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise RuntimeError("the tray target needs Xvfb (apt: xvfb)")
        self.display = next(n for n in range(90, 200) if not Path(f"/tmp/.X{n}-lock").exists())
        env = {
            k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")
        }
        self.env = {**env, "DISPLAY": f":{self.display}"}
        self.procs = [
            subprocess.Popen(
                [xvfb, f":{self.display}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ]
        deadline = time.monotonic() + 30
        while not Path(f"/tmp/.X11-unix/X{self.display}").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("Xvfb did not start")
            time.sleep(0.1)
        trayer = shutil.which("trayer")
        if trayer is not None:
            self.procs.append(
                subprocess.Popen(
                    [trayer, "--edge", "top", "--align", "right", "--SetDockType", "true"],
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            time.sleep(2.0)  # docked before the app looks for a tray

    def close(self) -> None:
        for p in reversed(self.procs):
            stop(p, signal.SIGTERM, timeout=10)


# What the app prints when it shows a dialog about its data, or crashes.
_APP_TROUBLE = ("damaged", "Traceback", "could not open", "selflow db")


def fault_tray(run: Run, kills: int, report: TargetReport, log) -> None:
    """The desktop app (``selflow`` with no command) on an X server, collecting files and hook
    commands; killed, restarted, and its log checked for a dialog about its data."""
    data, root = run.base / "tray-data", run.base / "tray-watched"
    root.mkdir()
    data.mkdir(mode=0o700)
    (data / "settings.json").write_text(
        json.dumps(
            {
                "watch_roots": [str(root)],
                "collect_apps": False,
                "collect_shell": True,
                "welcome_done": True,
                "training_policy": "ask",
            }
        )
    )
    x = XServer()
    logs: list[Path] = []

    def launch() -> subprocess.Popen:
        logs.append(run.base / f"tray-{len(logs)}.log")
        with open(logs[-1], "wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "selflow_qt", "--data-dir", str(data)],
                cwd=REPO,
                env={**run.env, **x.env, MARK: run.marker, "SELFLOW_DATA_DIR": str(data)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def trouble() -> str:
        """The trouble line in the newest start's log ("" when none)."""
        time.sleep(0.5)
        text = logs[-1].read_text(errors="replace")
        hit = [line for line in text.splitlines() if any(w in line for w in _APP_TROUBLE)]
        return f"app log: {hit[0][:160]}" if hit else ""

    try:
        _collector_kills(run, kills, report, log, data, root, launch, check_start=trouble)
    finally:
        x.close()


# -- the analysis ----------------------------------------------------------------------------
def _stale_runs(db: Path) -> tuple[int, bool]:
    """Analysis runs marked running whose process is gone, and whether one runs now."""
    rows = _query(db, "SELECT metrics FROM analysis_runs WHERE status = 'running'")
    pids = [json.loads(m or "{}").get("pid") for (m,) in rows]
    live = [p for p in pids if isinstance(p, int) and psutil.pid_exists(p)]
    return len(pids) - len(live), bool(live)


def fault_analyze(run: Run, kills: int, report: TargetReport, log) -> None:
    data = _seeded(run, "analyze-data")
    db = data / "selflow.db"
    temp0 = run.temp_entries()
    before = _query(db, "SELECT count(*) FROM events")[0][0]
    for k in range(kills):
        proc = run.selflow(data, "analyze")
        time.sleep(run.rng.uniform(0.3, 6.0))
        finished = proc.poll() is not None
        # The restart of the last kill is this start: once its run is recorded, none of the
        # runs before may still say running.
        stale, current = _stale_runs(db)
        left = stale if current else 0
        sig = run.rng.choice((signal.SIGKILL, signal.SIGTERM))
        stop(proc, sig)
        report.kills[sig.name] += 1
        orphans = run.orphans_after()
        ok = integrity_ok(db)
        lost = before - _query(db, "SELECT count(*) FROM events")[0][0]
        t0 = time.monotonic()
        status = run.selflow_done(data, "status", timeout=120)
        report.recovery_s.append(time.monotonic() - t0)
        grew = max(0, run.temp_entries() - temp0 - 1)  # the killed run's folder: swept at start
        report.orphans += orphans
        report.integrity_failures += not ok
        report.lost += max(0, lost)
        report.left_running += left
        report.temp_growth = max(report.temp_growth, grew)
        if ok and not orphans and lost <= 0 and not grew and not left and status.returncode == 0:
            report.held += 1
        log(f"analyze kill {k + 1}/{kills}: {sig.name}{' (had finished)' if finished else ''}, "
            f"orphans {orphans}, integrity {'ok' if ok else 'FAILED'}, earlier runs left "
            f"running {left}{'' if current else ' (not checked: no run yet)'}, status exit "
            f"{status.returncode}, temp {run.temp_names()}")  # fmt: skip
        if orphans:
            log("  left alive: " + "; ".join(run.orphan_lines[-orphans:]))
    # The last restart, to the end: no run left running, no temp folder left.
    done = run.selflow_done(data, "analyze", timeout=900)
    report.orphans += run.orphans_after()
    left = _query(db, "SELECT count(*) FROM analysis_runs WHERE status = 'running'")[0][0]
    report.left_running += left
    report.temp_growth = max(report.temp_growth, run.temp_entries() - temp0)
    log(f"analyze: the last run exited {done.returncode}, runs left running {left}, temp "
        f"{run.temp_names()}")  # fmt: skip


# -- a training child -------------------------------------------------------------------------
def _seeded(run: Run, name: str, days: int = 3) -> Path:
    """A data folder with a demo of ``days`` days (`selflow demo`), short trainings."""
    data = run.base / name
    seeded = run.selflow_done(data, "demo", "--days", str(days), timeout=900)
    if seeded.returncode != 0:
        raise RuntimeError(f"selflow demo failed: {seeded.stderr.decode()[-500:]}")
    path = data / "settings.json"
    settings = json.loads(path.read_text()) if path.exists() else {}
    settings.update(
        train_config={"max_steps": 3, "batch_size": 4, "eval_every": 2, "max_val": 8},
        eval_positions=8,
        lm_positions=4,
    )
    path.write_text(json.dumps(settings))
    return data


def _children(pid: int, skip: frozenset[int] = frozenset()) -> list[int]:
    """Live children of ``pid`` (not zombies waiting to be reaped), but those in ``skip``."""
    out = []
    try:
        for c in psutil.Process(pid).children():
            try:
                if c.pid not in skip and c.status() != psutil.STATUS_ZOMBIE:
                    out.append(c.pid)
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return out


def _wait_child(proc: subprocess.Popen, timeout: float = 300.0) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        kids = _children(proc.pid)
        if kids:
            return kids[0]
        time.sleep(0.05)
    return None


def fault_train(run: Run, kills: int, report: TargetReport, log) -> None:
    """`selflow train` (a few steps): its training child, or `selflow train` itself, killed at a
    random moment 0-8 s after the child started; the next `selflow train` is the restart."""
    data = _seeded(run, "train-data")
    db = data / "selflow.db"
    temp0 = run.temp_entries()
    before = _query(db, "SELECT count(*) FROM events")[0][0]
    t_down = time.monotonic()
    for k in range(kills + 1):  # the last start only checks what the last kill left
        proc = run.selflow(data, "train", "--max-steps", "3")
        child = _wait_child(proc)
        if child is None:
            log(f"train: no training child started (exit {proc.poll()})")
            stop(proc, signal.SIGKILL)
            report.problems += 1
            continue
        if k > 0:
            report.recovery_s.append(time.monotonic() - t_down)
        time.sleep(1.0)  # the runner marks what earlier kills left before it starts the child
        stale = _query(db, "SELECT count(*) FROM training_sessions WHERE status = 'training'")
        left = max(0, stale[0][0] - 1)  # the one training now is not left over
        report.left_running += left
        if k == kills:
            stop(proc, signal.SIGTERM)
            report.orphans += run.orphans_after()
            break
        time.sleep(run.rng.uniform(0.0, 8.0))
        sig = run.rng.choice((signal.SIGKILL, signal.SIGTERM))
        victim = "child" if run.rng.random() < 0.5 else "train"
        if victim == "child":
            try:
                os.kill(child, sig)
            except OSError:
                pass  # it had finished
            try:
                proc.wait(60)  # `selflow train` notices, records the failure, exits
            except subprocess.TimeoutExpired:
                report.problems += 1
                log("  `selflow train` still running 60 s after its child was killed")
                stop(proc, signal.SIGKILL)
        else:
            stop(proc, sig)
        t_down = time.monotonic()
        report.kills[sig.name] += 1
        orphans = run.orphans_after()
        ok = integrity_ok(db)
        lost = before - _query(db, "SELECT count(*) FROM events")[0][0]
        grew = max(0, run.temp_entries() - temp0 - 1)  # a killed run's folder: swept at start
        report.orphans += orphans
        report.integrity_failures += not ok
        report.lost += max(0, lost)
        report.temp_growth = max(report.temp_growth, grew)
        if ok and not orphans and lost <= 0 and not grew and not left:
            report.held += 1
        log(f"train kill {k + 1}/{kills}: {sig.name} to the {victim}, orphans {orphans}, "
            f"integrity {'ok' if ok else 'FAILED'}, sessions left training {left}, "
            f"temp {run.temp_names()}")  # fmt: skip
        if orphans:
            log("  left alive: " + "; ".join(run.orphan_lines[-orphans:]))
    grew = max(0, run.temp_entries() - temp0 - 1)  # the last one was killed: next start sweeps
    report.temp_growth = max(report.temp_growth, grew)
    log(f"train: temp folder at the end: {run.temp_names()}")


# -- a refit child ----------------------------------------------------------------------------
def _hook_commands(spool: Path, first: int, n: int, cwd: Path) -> list[str]:
    """Append ``n`` finished commands (run in ``cwd``) to a shell hook's spool file, one write
    each."""
    cmds = []
    fd = os.open(spool, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        for i in range(first, first + n):
            t = time.time()
            cmd = f"make step{i % 7} --run {i}"
            head = f"\x1ev1 zsh faults {t - 0.01:.6f} {t:.6f} 0 - raw".encode()
            os.write(fd, head + b"\0" + str(cwd).encode() + b"\0" + cmd.encode() + b"\0\n")
            cmds.append(cmd)
    finally:
        os.close(fd)
    return cmds


def fault_refit(run: Run, kills: int, report: TargetReport, log) -> None:
    """The refit child a serving collector starts after 1,000 new events: `selflow train` once
    (an agent), then `selflow collect` serving the shell hook's prompt while commands stream in
    through the hook's spool; each refit child is killed 0-3 s after it started. The collector
    must live on, the agent must still load (`selflow predict`), and no refit is left running."""
    data = _seeded(run, "refit-data")
    db = data / "selflow.db"
    trained = run.selflow_done(data, "train", "--max-steps", "2", timeout=1800)
    if trained.returncode != 0:
        raise RuntimeError(f"selflow train failed: {trained.stderr.decode()[-500:]}")
    spool_dir = data / "shell"
    spool_dir.mkdir(mode=0o700, exist_ok=True)
    spool = spool_dir / f"zsh.{os.getpid()}.faults.spool"
    sent: list[str] = _hook_commands(spool, 0, 1, run.home)
    proc = run.selflow(data, "collect", "--no-fs", "--no-apps")
    temp0 = run.temp_entries()
    before = _query(db, "SELECT count(*) FROM events")[0][0]
    t_down = time.monotonic()
    k = 0
    killed: list[int] = []
    try:
        while k < kills:
            child, deadline = None, time.monotonic() + 300
            # A refit is due after 1,000 new events, once the bandit has picked the agent (and
            # so loaded it): commands at ~200 a second, the prompt refreshed after each write.
            while child is None and time.monotonic() < deadline and proc.poll() is None:
                sent += _hook_commands(spool, len(sent), 100, run.home)
                time.sleep(0.5)
                kids = _children(proc.pid, frozenset(killed))
                child = kids[0] if kids else None
            if child is None:
                log(f"refit: no refit child after {len(sent)} commands (collector exit "
                    f"{proc.poll()})")  # fmt: skip
                report.problems += 1
                break
            report.recovery_s.append(time.monotonic() - t_down)
            time.sleep(run.rng.uniform(0.0, 3.0))
            sig = run.rng.choice((signal.SIGKILL, signal.SIGTERM))
            try:
                os.kill(child, sig)
            except OSError:
                pass  # it had finished
            killed.append(child)
            t_down = time.monotonic()
            k += 1
            report.kills[sig.name] += 1
            orphans = run.orphans_after(keep=frozenset({proc.pid}))
            alive = proc.poll() is None
            ok = integrity_ok(db)
            lost = before - _query(db, "SELECT count(*) FROM events")[0][0]
            left = _query(db, "SELECT count(*) FROM training_sessions WHERE status = 'training'")
            grew = max(0, run.temp_entries() - temp0 - 1)
            report.orphans += orphans
            report.integrity_failures += not ok
            report.lost += max(0, lost)
            report.left_running += left[0][0]
            report.problems += not alive
            report.temp_growth = max(report.temp_growth, grew)
            if ok and alive and not orphans and lost <= 0 and not left[0][0] and not grew:
                report.held += 1
            log(f"refit kill {k}/{kills}: {sig.name}, collector {'alive' if alive else 'GONE'}, "
                f"orphans {orphans}, integrity {'ok' if ok else 'FAILED'}, "
                f"{len(sent)} commands sent")  # fmt: skip
            if not alive:
                break
    finally:
        stop(proc, signal.SIGTERM)
    report.orphans += run.orphans_after()
    # A restarted collector catches the spool up: what it had not read yet is stored now.
    proc = run.selflow(data, "collect", "--no-fs", "--no-apps")
    time.sleep(8.0)
    stop(proc, signal.SIGTERM)
    cmds: dict[str, int] = {}
    for (c,) in _query(db, "SELECT cmd FROM events WHERE source='shell' AND cmd LIKE 'make step%'"):
        cmds[c] = cmds.get(c, 0) + 1
    never = [c for c in sent if c not in cmds]
    report.lost += len(never)
    report.duplicates += sum(n - 1 for n in cmds.values() if n > 1)
    predict = run.selflow_done(data, "predict", "--json", timeout=300)
    report.problems += predict.returncode != 0
    failed = _query(
        db, "SELECT count(*) FROM training_sessions WHERE status IN ('failed', 'cancelled')"
    )
    log(f"refit: {len(sent)} commands ({len(never)} never stored), agent loads: "
        f"{'yes' if predict.returncode == 0 else 'NO: ' + predict.stderr.decode()[-200:]}, "
        f"refits recorded failed/cancelled {failed[0][0]} of {k} killed")  # fmt: skip


TARGETS = {
    "collect": fault_collect,
    "analyze": fault_analyze,
    "tray": fault_tray,
    "train": fault_train,
    "refit": fault_refit,
}


def table(reports: list[TargetReport]) -> str:
    rows = [HEADER] + [r.row() for r in reports]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def broken(r: TargetReport) -> bool:
    return bool(
        r.lost or r.duplicates or r.orphans or r.integrity_failures or r.left_running
        or r.problems or r.temp_growth or r.held < sum(r.kills.values())
    )  # fmt: skip


def run_faults(
    kills: int, targets: list[str], seed: int = 1, quiet: bool = False
) -> list[TargetReport]:
    """Spread ``kills`` over ``targets``; one report per target."""
    reports = []
    with tempfile.TemporaryDirectory(prefix="selflow-faults-") as tmp:
        run = Run(Path(tmp), seed)
        share = [kills // len(targets) + (i < kills % len(targets)) for i in range(len(targets))]
        for name, n in zip(targets, share, strict=True):
            report = TargetReport(name)

            def log(line: str, report: TargetReport = report) -> None:
                report.lines.append(line)
                if not quiet:
                    print(line, file=sys.stderr, flush=True)

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
