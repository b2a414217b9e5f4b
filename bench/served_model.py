"""The model served from its own process: how soon its answer is ready after an event, and what
the tray's predict costs, on a real command stream.

    .venv/bin/python bench/served_model.py [--events 60] [--lines]

The store is bench/ui.py's (5,000 real commands of ../shared/data imported, one agent trained
with `selflow train --max-steps 2`). The agent's ranker is given a weight for its model's score
(and, with ``--lines``, trust in the lines the model writes) so that the app serves it with a
model process, as it serves an agent whose model earned a place. Then the next real commands
arrive one at a time: each is written to the store, ``SuggestionService`` learns it and asks the
model process (the ranker's top candidates, and the lines it writes there); the bench records
when the answer is in (ready after the event), and the suggestion's own time (the tray's
predict, which waits at most ``MODEL_WAIT_S`` for that answer).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import ui  # noqa: E402  (bench/ui.py: the trained store)

from selflow_qt.agents.ranking.candidates import GEN_FEATURES  # noqa: E402


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))] if s else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=60, help="real commands that arrive")
    ap.add_argument("--lines", action="store_true", help="the model also writes lines")
    args = ap.parse_args()
    from selflow_qt.agents.serving.model_server import MODEL_WAIT_S
    from selflow_qt.agents.serving.serving import SuggestionService
    from selflow_qt.core.event import Event
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.rows import insert_events

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
        src, _ = ui.agent_store()
        used = Path((src / ".complete").read_text())
        later = [json.loads(x) for x in used.read_text().splitlines()][-args.events :]
        svc = SuggestionService(data)
        t0 = time.perf_counter()
        svc.suggest()  # the bandit picks the agent: loaded, its model process started
        served = svc._models.get(agent)
        if served is None:
            print(f"{agent} is not served with its model")
            return 1
        first = served.wait_answer(svc._last_id, 600)
        load_s = time.perf_counter() - t0
        ready, predict, model_ms = [], [], []
        ctx = StoreContext.open(data)
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
        finally:
            ctx.close()
            svc.close()
        n = len(ready)
        print(
            f"agent {agent}, model process up and first answer in {load_s:.1f} s "
            f"(first answer {'in' if first else 'NOT in'}); {n} of {len(later) - 1} events "
            f"answered; lines written: {args.lines}; load avg {os.getloadavg()[0]:.1f}\n"
        )
        print("| measure | p50 (ms) | p95 (ms) | mean (ms) | goal |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name, xs, goal in (
            ("answer ready after the event", ready, "p50 < 150, p95 < 400"),
            ("the model's own work in its process", model_ms, ""),
            (f"the tray's predict (waits <= {MODEL_WAIT_S * 1000:.0f} ms)", predict, ""),
        ):
            if xs:
                print(
                    f"| {name} | {pct(xs, 0.5):.0f} | {pct(xs, 0.95):.0f} "
                    f"| {statistics.mean(xs):.0f} | {goal} |"
                )
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
