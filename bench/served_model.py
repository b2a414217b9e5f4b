"""The model served from its own process: how soon its answer is ready after an event, and what
the tray's predict costs, on a real command stream.

    .venv/bin/python bench/served_model.py [--events 60] [--lines] [--runtime auto|torch|both]

The store is bench/ui.py's (5,000 real commands of ../shared/data imported, one agent trained
with `selflow train --max-steps 2`). The agent's ranker is given a weight for its model's score
(and, with ``--lines``, trust in the lines the model writes) so that the app serves it with a
model process, as it serves an agent whose model earned a place. Then the next real commands
arrive one at a time: each is written to the store, ``SuggestionService`` learns it and asks the
model process (the ranker's top candidates, and the lines it writes there); the bench records
when the answer is in (ready after the event; and apart, the answers the model computed rather
than read from those it kept for a context seen before), and the suggestion's own time (the
tray's predict, which waits at most ``MODEL_WAIT_S`` for that answer), and the model process's
memory.
``--runtime``: the model process on CTranslate2 (``auto``: the adapter merged and converted
first, as after a training, timed), on torch as before, or ``both`` one after the other on the
same events (the table then has both side by side, with their ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import ui  # noqa: E402  (bench/ui.py: the trained store)

from selflow_qt.agents.ranking.candidates import GEN_FEATURES  # noqa: E402

KEPT_MS = 5.0  # an answer the model process read from those it kept takes less


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))] if s else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=60, help="real commands that arrive")
    ap.add_argument("--lines", action="store_true", help="the model also writes lines")
    ap.add_argument("--runtime", choices=("auto", "torch", "both"), default="both")
    args = ap.parse_args()
    from selflow_qt.agents.serving.model_server import MODEL_WAIT_S

    runtimes = ["torch", "auto"] if args.runtime == "both" else [args.runtime]
    runs = {}
    for runtime in runtimes:
        runs[runtime] = run(args, runtime)
        if runs[runtime] is None:
            return 1
    print(f"\nlines written: {args.lines}; {args.events - 1} events each (after one warm-up)\n")
    names = {r: runs[r]["runtime"] for r in runtimes}
    head = " | ".join(f"{names[r]} p50 / p95 (ms)" for r in runtimes)
    ratio = " | p50, p95 ratio" if len(runtimes) == 2 else ""
    print(f"| measure | {head}{ratio} | goal |")
    print("| --- |" + " ---: |" * (len(runtimes) + bool(ratio)) + " --- |")
    for r in runtimes:  # answers the model computed, not read from the ones it kept
        runs[r]["fresh"] = [
            x for x, m in zip(runs[r]["ready"], runs[r]["model_ms"], strict=True) if m >= KEPT_MS
        ]
    for key, name, goal in (
        ("ready", "answer ready after the event", "p50 < 150, p95 < 400"),
        ("fresh", f"... of those the model computed (its work >= {KEPT_MS:.0f} ms)", ""),
        ("model_ms", "the model's own work in its process", ""),
        ("predict", f"the tray's predict (waits <= {MODEL_WAIT_S * 1000:.0f} ms)", ""),
    ):
        cells = []
        for r in runtimes:
            xs = runs[r][key]
            cells.append(f"{pct(xs, 0.5):.0f} / {pct(xs, 0.95):.0f}" if xs else "-")
        row = f"| {name} | {' | '.join(cells)}"
        if ratio:
            a, b = (runs[r][key] for r in runtimes)
            if a and b:
                row += f" | {pct(a, 0.5) / pct(b, 0.5):.1f}x, {pct(a, 0.95) / pct(b, 0.95):.1f}x"
            else:
                row += " | -"
        print(f"{row} | {goal} |")
    cells = " | ".join(f"{len(runs[r]['fresh'])} of {len(runs[r]['ready'])}" for r in runtimes)
    print(
        f"| answers computed, not kept from a context seen before | {cells}{' | ' if ratio else ''} | |"
    )
    cells = " | ".join(f"{runs[r]['rss_mb']:.0f}" for r in runtimes)
    print(f"| the model process's RSS (MB), after answering | {cells}{' | ' if ratio else ''} | |")
    cells = " | ".join(f"{runs[r]['load']:.1f}" for r in runtimes)
    print(f"| load average (1 min) at the end | {cells}{' | ' if ratio else ''} | |")
    return 0


def run(args, runtime: str) -> dict | None:
    """Serve the agent on ``runtime`` and answer the events; the measured times."""
    import psutil

    from selflow_qt.agents.model.fast_runtime import convert_agent, is_current
    from selflow_qt.agents.serving import model_server
    from selflow_qt.agents.serving.serving import SuggestionService
    from selflow_qt.core.event import Event
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.rows import insert_events

    model_server.RUNTIME = runtime
    src, agent = ui.agent_store()
    if runtime != "torch" and not is_current(src / "agents" / agent):
        # As after a training: the adapter merged and converted once (then kept in the store).
        t0 = time.perf_counter()
        convert_agent(src / "agents" / agent, src)
        print(f"converted {agent} to CTranslate2 in {time.perf_counter() - t0:.0f} s")
    tmp = Path(tempfile.mkdtemp(prefix="selflow-served-"))
    try:
        watched = tmp / "quiet"
        watched.mkdir()
        data = tmp / "data"
        agent = ui.prepare_agent_run(data, watched, model=True)
        if args.lines:
            state_file = data / "agents" / agent / "ranker.json"
            state = json.loads(state_file.read_text())
            state["lm_trust"] = [0.0] * (len(GEN_FEATURES) - 1) + [0.1]
            state_file.write_text(json.dumps(state))
        used = Path((src / ".complete").read_text())
        later = [json.loads(x) for x in used.read_text().splitlines()][-args.events :]
        svc = SuggestionService(data)
        t0 = time.perf_counter()
        svc.suggest()  # the bandit picks the agent: loaded, its model process started
        served = svc._models.get(agent)
        if served is None:
            print(f"{agent} is not served with its model")
            return None
        first = served.wait_answer(svc._last_id, 600)
        load_s = time.perf_counter() - t0
        ready, predict, model_ms = [], [], []
        ctx = StoreContext.open(data)
        rss_mb = 0.0
        try:
            for i, row in enumerate(later):
                ev = Event(ts=time.time(), source="shell", action="command", cmd=row.get("cmd"))
                with ctx.db.atomic():
                    insert_events(ctx.db, [ev])
                t_event = time.perf_counter()
                svc._refresh()  # learned and asked, as the flush listener does
                qid = svc._last_id
                got = served.wait_answer(qid, 30)
                if got is not None:
                    ready.append((time.perf_counter() - t_event) * 1000)
                    model_ms.append(got.ms)
                t1 = time.perf_counter()
                svc._cache = None  # a new event: a new suggestion
                svc.suggest()
                predict.append((time.perf_counter() - t1) * 1000)
                if i == 0:
                    ready.clear(), model_ms.clear(), predict.clear()  # warm-up
            if served.child is not None:
                rss_mb = psutil.Process(served.child.pid).memory_info().rss / 2**20
        finally:
            ctx.close()
            svc.close()
        print(
            f"{runtime}: agent {agent} served on {served.runtime or '?'}, model process up and "
            f"first answer in {load_s:.1f} s (first answer {'in' if first else 'NOT in'}); "
            f"{len(ready)} of {len(later) - 1} events answered; load avg "
            f"{os.getloadavg()[0]:.1f}; this process's max RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
            flush=True,
        )
        return {
            "runtime": served.runtime or runtime,
            "ready": ready,
            "model_ms": model_ms,
            "predict": predict,
            "rss_mb": rss_mb,
            "load": os.getloadavg()[0],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
