"""Desktop app benchmark: window open time, idle memory against a bare tray app, tray refresh cost.

    .venv/bin/python bench/ui.py [--sizes 130000 1000000] [--idle-seconds 20]

1. Stores of each size are filled by the demo generator (``selflow_qt.demo.generator``) at its
   normal rate over as many days as needed, ending today (cached in $TMPDIR between runs).
   "Open" is timed in a fresh process: QApplication + AppState + MainWindow shown, until every
   dock's first read has come back from its worker and the window has painted (targets < 2 s).
2. Idle memory: the real app (`selflow`, collectors on a quiet folder, tray on Xvfb + trayer)
   against a bare PySide6 app that shows one tray icon, side by side on the same display, RSS
   and USS after ``--idle-seconds``; plus whether torch was imported (it must not be). The app
   runs twice: on an empty data folder, and on one holding real commands and a micro-agent
   trained on them by `selflow train` (the adapter and the ranker on disk; the bandit set to
   pick the agent, so the tray has loaded it and answered with it before it is measured).
   ``--memory-only`` skips 1 and 3.
3. Tray refresh: reading every number of the tray menu (median of 7) and updating the menu.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RUN_APP = REPO / "tests" / "support" / "run_app.py"  # the app with test hooks
CACHE = Path(tempfile.gettempdir()) / "selflow-bench-ui"
PER_DAY = 2_500
SHARED_SEA = REPO.parent / "shared" / "data" / "sea-users21-50.jsonl.gz"
GAMES_SAMPLE = REPO / "tests" / "unit" / "analyze" / "data" / "games-sample.jsonl"

BARE_TRAY = """
import sys, time
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
from PySide6.QtGui import QIcon, QPixmap, QColor
app = QApplication(sys.argv)
app.setQuitOnLastWindowClosed(False)
pm = QPixmap(32, 32); pm.fill(QColor("#3b6fd8"))
icon = QSystemTrayIcon(QIcon(pm)); icon.show()
print("tray available:", QSystemTrayIcon.isSystemTrayAvailable(), flush=True)
sys.exit(app.exec())
"""


# -- stores -------------------------------------------------------------------------------------
def build_store(n: int) -> Path:
    """A data folder with about ``n`` demo events ending today (built once, then reused)."""
    data = CACHE / f"store-{n}"
    done = data / ".complete"
    if done.exists():
        return data
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    from selflow_qt.core.privacy import PrivacyFilter
    from selflow_qt.demo.generator import generate_demo
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.writer import insert_events

    days = max(1, round(n / PER_DAY))
    midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = (midnight - timedelta(days=days - 1)).timestamp()
    ctx = StoreContext.open(data)
    privacy = PrivacyFilter.from_settings(ctx.settings)
    t0, total, chunk = time.perf_counter(), 0, []
    for ev in generate_demo(days, seed=11, start=start, events_per_day=round(n / days)):
        kept = privacy.apply(ev)
        if kept is not None:
            chunk.append(kept)
        if len(chunk) >= 50_000:
            with ctx.db.atomic():
                total += insert_events(ctx.db, chunk)[0]
            chunk = []
    with ctx.db.atomic():
        total += insert_events(ctx.db, chunk)[0]
    ctx.close()
    done.write_text(str(total))
    print(f"  built a store of {total:,} events ({days} days) in {time.perf_counter() - t0:.0f} s")
    return data


# -- child: open the window ---------------------------------------------------------------------
def child_open(data: str) -> None:
    t0 = time.perf_counter()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from selflow_qt.ui.main_window import MainWindow
    from selflow_qt.ui.state import AppState
    from selflow_qt.workers.worker import Worker

    t_import = time.perf_counter() - t0
    state = AppState(data, start_services=False)
    t_state = time.perf_counter() - t0
    win = MainWindow(state)
    win.show()
    app.processEvents()
    t_shown = time.perf_counter() - t0
    # every dock reads on a worker; done when none is running (a read may chain a second one)
    quiet_since = None
    while True:
        app.processEvents()
        busy = any(not w.is_done for w in Worker.running()) or state.pool.activeThreadCount()
        now = time.perf_counter()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since > 0.05:
            break
        if now - t0 > 120:
            break
        time.sleep(0.002)
    for _ in range(3):
        app.processEvents()
    win.grab()  # the first complete paint
    t_open = time.perf_counter() - t0 - 0.05  # minus the quiet period used to detect the end
    cpu_open = time.process_time()  # CPU seconds of this process (all threads) up to here

    from selflow_qt.store.queries.tray import tray_snapshot
    from selflow_qt.ui.resources import app_icon
    from selflow_qt.ui.tray.icon import TrayController

    snaps = []
    for _ in range(7):
        s = time.perf_counter()
        snap = tray_snapshot(state.read_db(), state.settings.budget_bytes)
        snaps.append((time.perf_counter() - s) * 1000)
    tray = TrayController(state, win, app_icon(), show_icon=False)
    s = time.perf_counter()
    for _ in range(20):
        tray.apply_snapshot(snap)
    apply_ms = (time.perf_counter() - s) * 1000 / 20
    events = state.read_db().execute_sql("SELECT count(*) FROM events").fetchone()[0]
    print(
        json.dumps(
            {
                "events": events,
                "events_today": snap.events_today,
                "open_s": t_open,
                "cpu_s": cpu_open,
                "imports_s": t_import,
                "state_s": t_state,
                "shown_s": t_shown,
                "load": os.getloadavg()[0],
                "docks": sorted(win.docks),
                "tray_read_ms": statistics.median(snaps),
                "tray_apply_ms": apply_ms,
                "torch": "torch" in sys.modules,
            }
        )
    )
    tray.timer.stop()
    state.shutdown(10_000)


def run_open(data: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, __file__, "--child-open", str(data)],
        env=env, capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(lines[-1])


# -- a data folder with a trained agent ---------------------------------------------------------
def _sample_commands(path: Path) -> str:
    """One real person's commands as JSON Lines: the first SEA user of ../shared/data (5,000
    bare command names), else the 453 game commands kept with the tests."""
    import gzip

    if not SHARED_SEA.exists():
        return str(GAMES_SAMPLE)
    with gzip.open(SHARED_SEA, "rt", encoding="utf-8") as src, open(path, "w") as out:
        user = None
        for line in src:
            u = json.loads(line).get("meta", {}).get("user")
            if user is not None and u != user:
                break
            user = u
            out.write(line)
    return str(path)


def agent_store() -> tuple[Path, str]:
    """A data folder with real commands and one micro-agent trained on them through the CLI
    (`selflow import jsonl`, `selflow train --max-steps 2`); built once, then reused."""
    data = CACHE / "agent-store"
    done = data / ".complete"
    if not done.exists():
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        events = _sample_commands(CACHE / "agent-store-events.jsonl")
        from selflow_qt.core.settings import Settings

        settings = Settings.load(data)
        settings.eval_positions = 30  # the offline score is not what this bench measures
        settings.save(data)
        cli = [sys.executable, "-m", "selflow_qt", "--data-dir", str(data)]
        t0 = time.perf_counter()
        for args in (["import", "jsonl", events], ["train", "--max-steps", "2"]):
            out = subprocess.run([*cli, *args], capture_output=True, text=True, cwd=REPO)
            if out.returncode != 0:
                raise RuntimeError(f"selflow {' '.join(args)}: {out.stderr[-2000:]}")
        done.write_text(events)
        print(f"  trained an agent on {events} in {time.perf_counter() - t0:.0f} s")
    agent = next(p.name for p in (data / "agents").iterdir() if (p / "ranker.json").exists())
    return data, agent


def prepare_agent_run(dest: Path, watched: Path, model: bool = False) -> str:
    """Copy the trained store to ``dest`` and make the bandit pick its agent; returns the
    agent's id. Without ``model`` the base model's files stay behind (the agent is served by its
    trees, which do not read them); with it the agent's ranker is given a weight for its model's
    score (set here: on 2 training steps the model earns none), so the app serves it with a model
    process, as it does an agent whose model earned a place."""
    from selflow_qt.core.settings import Settings
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.models import BanditArm, MicroAgent

    src, agent = agent_store()
    skip = (".complete",) if model else ("models", ".complete")
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*skip))
    if model:
        state_file = dest / "agents" / agent / "ranker.json"
        state = json.loads(state_file.read_text())
        state["lm_weight"] = 1.0
        state_file.write_text(json.dumps(state))
        if not (dest / "agents" / agent / "adapter_config.json").exists():
            raise RuntimeError(f"{agent} has no adapter: the model cannot be served")
    settings = Settings.load(dest)
    settings.watch_roots = [str(watched)]
    settings.exploration_rate = 0.0  # the agent answers: it is what is measured
    settings.save(dest)
    ctx = StoreContext.open(dest)
    try:
        MicroAgent.update(model_path=str(dest / "agents" / agent)).where(
            MicroAgent.model_id == agent
        ).execute()  # the copy's own folder (the row named the cached store's)
        for arm in ("most-frequent", "most-recent", "markov-1", "markov-2"):
            BanditArm.insert(arm_id=arm, kind="baseline", successes=1, attempts=10).on_conflict(
                conflict_target=[BanditArm.arm_id],
                update={BanditArm.successes: 1, BanditArm.attempts: 10},
            ).execute()
        BanditArm.insert(arm_id=agent, kind="agent", successes=9, attempts=10).on_conflict(
            conflict_target=[BanditArm.arm_id],
            update={BanditArm.successes: 9, BanditArm.attempts: 10},
        ).execute()
    finally:
        ctx.close()
    return agent


def answered_by(data: Path) -> list[str]:
    """The predictors that made the suggestions logged in ``data``."""
    from selflow_qt.store.db import connect, db_path_for

    db = connect(db_path_for(data))
    try:
        rows = db.execute_sql(
            "SELECT model_id FROM user_interactions WHERE interaction_type = 'suggestion'"
        ).fetchall()
    finally:
        db.close()
    return sorted({r[0] for r in rows})


def suggestion_latencies(data: Path) -> list[float]:
    """The logged suggestions' latency (the tray's predict, ms) in ``data``."""
    from selflow_qt.store.db import connect, db_path_for

    db = connect(db_path_for(data))
    try:
        rows = db.execute_sql(
            "SELECT latency_ms FROM user_interactions WHERE interaction_type = 'suggestion'"
        ).fetchall()
    finally:
        db.close()
    return [float(r[0]) for r in rows if r[0] is not None]


# -- idle memory --------------------------------------------------------------------------------
def _wait(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return False


AGENT_SHARE = """
import json, sys, psutil
from selflow_qt.agents.serving.serving import SuggestionService
rss = lambda: psutil.Process().memory_info().rss / 2**20
s = SuggestionService(sys.argv[1]); s._refresh(); before = rss()
s._predictor(sys.argv[2]).predict(s._context, 5)
print(json.dumps({"before": before, "after": rss(), "torch": "torch" in sys.modules,
                  "sklearn": "sklearn" in sys.modules}))
"""


def agent_share(data: Path, agent: str) -> dict:
    """What loading the trained agent adds to a process that already serves the baselines."""
    out = subprocess.run(
        [sys.executable, "-c", AGENT_SHARE, str(data), agent],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": out.stderr[-500:]}


def heavy(pid: int) -> str:
    """The large Python packages whose native code a process has mapped (Linux; "?" elsewhere)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return "?"
    names = ("torch", "sklearn", "scipy", "pandas", "pyarrow", "numba")
    return ", ".join(n for n in names if f"site-packages/{n}/" in maps) or "none"


def idle_memory(seconds: float) -> dict:
    import psutil

    from selflow_qt.core.settings import Settings

    if not (shutil.which("Xvfb") and shutil.which("trayer")):
        return {"error": "Xvfb/trayer not installed"}
    tmp = Path(tempfile.mkdtemp(prefix="selflow-idle-"))
    disp = next(n for n in range(120, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["DISPLAY"] = f":{disp}"
    procs: list[subprocess.Popen] = []
    quiet = subprocess.DEVNULL
    try:
        procs.append(
            subprocess.Popen(
                ["Xvfb", f":{disp}", "-screen", "0", "1280x800x24"], stdout=quiet, stderr=quiet
            )
        )
        _wait(lambda: Path(f"/tmp/.X11-unix/X{disp}").exists(), 20)
        procs.append(
            subprocess.Popen(
                ["trayer", "--edge", "top", "--SetDockType", "true"],
                env=env,
                stdout=quiet,
                stderr=quiet,
            )
        )
        time.sleep(1.0)
        data, trained, watched = tmp / "data", tmp / "trained", tmp / "quiet"
        data.mkdir()
        watched.mkdir()
        Settings(watch_roots=[str(watched)]).save(data)
        agent = prepare_agent_run(trained, watched)
        with_model = tmp / "with-model"
        prepare_agent_run(with_model, watched, model=True)
        folders = (("selflow", data), ("selflow+agent", trained), ("selflow+model", with_model))
        cmd = [sys.executable, str(RUN_APP)]
        apps = {}
        for name, folder in folders:
            apps[name] = subprocess.Popen(
                [*cmd, "--data-dir", str(folder)], env=env, stdout=quiet, stderr=quiet
            )
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE_TRAY], env=env, stdout=quiet, stderr=quiet
        )
        procs += [*apps.values(), bare]
        time.sleep(seconds)
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.instance() or QCoreApplication([])
        from selflow_qt.ui.control import send_command

        out: dict = {"agent": agent}
        for name, p in (*apps.items(), ("bare", bare)):
            info = psutil.Process(p.pid).memory_full_info()
            out[name] = {"rss": info.rss / 2**20, "uss": info.uss / 2**20, "heavy": heavy(p.pid)}
            kids = psutil.Process(p.pid).children(recursive=True)
            out[name]["children"] = [
                (k.pid, k.memory_info().rss / 2**20, heavy(k.pid)) for k in kids
            ]
        for name, folder in folders:
            state = json.loads(send_command(folder, "state") or "{}")
            out[name]["torch"] = state.get("modules", {}).get("torch")
            out[name]["has_tray"] = state.get("has_tray")
        out["answered_by"] = answered_by(trained)
        out["model_answered_by"] = answered_by(with_model)
        out["model_latency_ms"] = suggestion_latencies(with_model)
        out["share"] = agent_share(trained, agent)
        return out
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[130_000, 1_000_000])
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--memory-only", action="store_true", help="only the idle memory table")
    ap.add_argument("--child-open", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_open:
        child_open(args.child_open)
        return 0
    rows = []
    for n in [] if args.memory_only else args.sizes:
        print(f"store of ~{n:,} events:")
        data = build_store(n)
        runs = [run_open(data) for _ in range(3)]
        best = min(runs, key=lambda r: r["open_s"])
        best["open_runs"] = [r["open_s"] for r in runs]
        rows.append(best)
    if rows:
        print()
        print(
            "| events in store | events today | open window (3 runs, s) | CPU time of best run (s) "
            "| best run: imports / store / window shown / first reads painted (s) "
            "| tray read (ms, median of 7) | tray menu update (ms) | load avg | target |"
        )
        print("| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | --- |")
        for r in rows:
            runs = ", ".join(f"{x:.2f}" for x in r["open_runs"])
            ok = "ok" if r["open_s"] < 2 else "MISSED"
            parts = " / ".join(
                f"{x:.2f}"
                for x in (
                    r["imports_s"],
                    r["state_s"] - r["imports_s"],
                    r["shown_s"] - r["state_s"],
                    r["open_s"] - r["shown_s"],
                )
            )
            print(
                f"| {r['events']:,} | {r['events_today']:,} | {runs} | {r['cpu_s']:.2f} | {parts} "
                f"| {r['tray_read_ms']:.1f} | {r['tray_apply_ms']:.2f} | {r['load']:.1f} | < 2 s: {ok} |"
            )
        print(
            f"\ndocks opened: {', '.join(rows[0]['docks'])}; load avg = 1-minute load of this machine"
        )
        print(
            "(2 cores): above ~2 other work competed for the CPU, and wall time exceeds CPU time.\n"
        )
    mem = idle_memory(args.idle_seconds)
    if "error" in mem:
        print(f"idle memory: skipped ({mem['error']})")
        return 0
    b = mem["bare"]
    shown = all(mem[k]["has_tray"] for k in ("selflow", "selflow+agent", "selflow+model"))
    print(f"idle after {args.idle_seconds:.0f} s on Xvfb + trayer (tray shown: {shown}):")
    print(
        "| process | RSS (MB) | USS (MB) | RSS over the bare tray (MB) | torch imported "
        "| large packages mapped |"
    )
    print("| --- | ---: | ---: | ---: | --- | --- |")
    print(f"| bare PySide6 app, one tray icon | {b['rss']:.0f} | {b['uss']:.0f} | | | |")
    measured = (
        ("selflow", "selflow (tray, collectors, no window), empty data folder"),
        ("selflow+agent", f"selflow, data folder with a trained agent ({mem['agent']})"),
        ("selflow+model", "selflow, the same agent served with its model"),
    )
    worst = 0.0
    for key, label in measured:
        s = mem[key]
        extra = s["rss"] - b["rss"]
        worst = max(worst, extra)
        print(
            f"| {label} | {s['rss']:.0f} | {s['uss']:.0f} | {extra:+.0f} | {s['torch']} "
            f"| {s['heavy']} |"
        )
        for pid, rss_mb, maps in s["children"]:
            print(f"| - its child process {pid} | {rss_mb:.0f} | | | | {maps} |")
    lat = sorted(mem["model_latency_ms"])
    if lat:
        print(
            f"\nthe tray's predict with the model-served agent: p50 {lat[len(lat) // 2]:.1f} ms "
            f"over {len(lat)} suggestions (made by: {', '.join(mem['model_answered_by'])})"
        )
    sh = mem["share"]
    if "error" not in sh:
        print(
            f"\nthe agent's own share: a process serving the baselines on that store grows from "
            f"{sh['before']:.0f} to {sh['after']:.0f} MB when the agent loads and answers "
            f"(torch: {sh['torch']}, scikit-learn: {sh['sklearn']})"
        )
    print(
        f"suggestions made by: {', '.join(mem['answered_by']) or 'none'}; "
        f"target < 100 MB over the bare tray: {'ok' if worst < 100 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
