"""Predictor benchmark: next-event hit@1/hit@5/MRR of every predictor (baselines and a micro-agent
trained on the earlier 80%) on the demo data and on this machine's real shell history if there is
one, then suggestion latency through ``SuggestionService.suggest`` (target p50 < 150 ms).

    .venv/bin/python bench/predictors.py [--max-steps N] [--positions 200] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def real_shell_history():
    """Events from the user's own shell history files, or (None, why) when there is none."""
    from selflow_qt.collect.shell_history import default_history_files, read_history_file
    from selflow_qt.core.event import Event

    for path in default_history_files():
        if not path.exists():
            continue
        fmt, entries = read_history_file(path)
        timed = [e for e in entries if getattr(e, "ts", None)]
        events = []
        t = 1_700_000_000.0
        for e in entries:
            ts = e.ts if timed else t  # bash without timestamps: order only, 30 s apart
            t += 30
            events.append(Event(ts=float(ts), source="shell", action="command", cmd=e.cmd))
        if len(events) >= 200:
            return events, f"{path} ({fmt}, {len(events)} commands)"
    return (
        None,
        "no real shell history on this machine (no ~/.bash_history, ~/.zsh_history or fish history with >= 200 commands)",
    )


def eval_table(events, title, data_dir, settings, max_steps, positions):
    from selflow_qt.agents.evaluation.evaluation import format_table
    from selflow_qt.agents.training.eval_stream import evaluate_stream

    t0 = time.perf_counter()
    metrics, result = evaluate_stream(
        events, data_dir, settings, split=0.8, max_steps=max_steps, max_positions=positions
    )
    tr = result.get("training", {})
    print(format_table(metrics, title))
    print(
        f"(agent: {tr.get('steps')} steps, val loss {tr.get('val_loss_before', 0):.3f} -> "
        f"{tr.get('val_loss_after', 0):.3f}, {tr.get('tokens_per_s', 0):.0f} tok/s; "
        f"whole run {time.perf_counter() - t0:.0f} s)\n"
    )
    return metrics, result


def suggestion_latency(data_dir: Path, n: int):
    """Replay the demo's last events one by one; time suggest() on each fresh context."""
    from selflow_qt.agents.evaluation.evaluation import percentile
    from selflow_qt.agents.serving.registry import record_agent
    from selflow_qt.agents.serving.serving import SuggestionService
    from selflow_qt.agents.training.eval_stream import evaluate_stream
    from selflow_qt.demo.generator import generate_demo
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.writer import insert_events

    work = Path(tempfile.mkdtemp(prefix="selflow-bench-serve-"))
    (work / "models").symlink_to(data_dir / "models")
    ctx = StoreContext.open(work)
    events = list(generate_demo(7, 0))
    cut = len(events) - n
    with ctx.db.atomic():
        insert_events(ctx.db, events[:cut])
    folder = work / "agents" / "agent-demo"
    _, result = evaluate_stream(
        # Latency does not depend on how long the agent trained: a short run is enough here.
        events[:cut],
        work,
        ctx.settings,
        split=0.8,
        max_steps=20,
        max_positions=20,
        keep_adapter=folder,
    )
    result["metrics"]["agent-demo"] = result["metrics"].pop("agent-eval")
    record_agent("agent-demo", folder, result, "demo")
    now = {"t": events[cut - 1].ts}
    service = SuggestionService(work, clock=lambda: now["t"], seed=0)
    lat: dict[str, list[float]] = {}
    for ev in events[cut:]:
        t0 = time.perf_counter()
        sugg = service.suggest(5)
        ms = (time.perf_counter() - t0) * 1000
        if sugg:
            lat.setdefault(sugg[0].predictor, []).append(ms)
        with ctx.db.atomic():
            insert_events(ctx.db, [ev])
        now["t"] = ev.ts
        service.resolve_pending()
    now["t"] += 10_000
    service.resolve_pending()
    allv = [v for vs in lat.values() for v in vs]
    print(
        f"suggest() latency over {len(allv)} fresh contexts (policy {service.settings.bandit_policy}):"
    )
    print(f"{'arm':<22} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for arm, vs in sorted(lat.items(), key=lambda kv: -len(kv[1])):
        print(f"{arm:<22} {len(vs):>6} {percentile(vs, 0.5):>8.1f} {percentile(vs, 0.95):>8.1f}")
    print(
        f"{'all':<22} {len(allv):>6} {percentile(allv, 0.5):>8.1f} {percentile(allv, 0.95):>8.1f}   target p50 < 150 ms"
    )
    print("\nbandit after the replay:")
    for s in service.bandit.stats():
        print(
            f"  #{s.rank} {s.arm_id:<20} success {s.success_rate:.2f} "
            f"[{s.ci_low:.2f}, {s.ci_high:.2f}] over {s.attempts}"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--max-steps", type=int, default=None, help="agent training steps (default: the trainer's)"
    )
    ap.add_argument("--positions", type=int, default=200)
    ap.add_argument("--replay", type=int, default=150)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--skip-latency", action="store_true")
    a = ap.parse_args()
    from selflow_qt.core.settings import Settings, resolve_data_dir
    from selflow_qt.demo.generator import generate_demo

    data_dir = resolve_data_dir(a.data_dir or tempfile.mkdtemp(prefix="selflow-bench-data-"))
    settings = Settings()
    demo = list(generate_demo(7, 0))
    eval_table(
        demo,
        f"demo (7 days, seed 0, {len(demo)} events), last 20% by time:",
        data_dir,
        settings,
        a.max_steps,
        a.positions,
    )
    hist, why = real_shell_history()
    if hist is None:
        print(f"real shell history: {why}\n")
    else:
        eval_table(
            hist,
            f"real shell history {why}, last 20%:",
            data_dir,
            settings,
            a.max_steps,
            a.positions,
        )
    if not a.skip_latency:
        suggestion_latency(data_dir, a.replay)
    try:
        print(
            f"\nload average while measuring: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)"
        )
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
