"""CLI: `selflow train`, `selflow agents`, `selflow predict`, `selflow eval next-event`."""

from __future__ import annotations

import argparse
import json
import sys

from selflow_qt.cli.options import open_fraction, positive_int, recorded_data_dir
from selflow_qt.core.ranking import medal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a micro-agent (a queued session, a pattern, or all activity)"
    )
    p.add_argument("--pattern", type=positive_int, default=None, help="pattern id to specialise on")
    p.add_argument("--workflow", default=None, help="train on events whose meta.workflow is this")
    p.add_argument("--max-steps", type=positive_int, default=None, help="cap the training steps")
    p.set_defaults(func=run_train)

    p = sub.add_parser("agents", help="rank the predictors: baselines and micro-agents")
    p.add_argument("--json", action="store_true", help="print the ranking as JSON")
    p.set_defaults(func=run_agents)

    p = sub.add_parser("predict", help="suggest the next actions now")
    p.add_argument(
        "-k", type=positive_int, default=5, help="how many suggestions to show (default 5)"
    )
    p.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    p.set_defaults(func=run_predict)

    p = sub.add_parser("eval", help="evaluate predictors offline")
    esub = p.add_subparsers(dest="eval_what", metavar="WHAT", required=True)
    e = esub.add_parser(
        "next-event", help="train on the earlier part of a JSONL stream, score on the rest"
    )
    e.add_argument("--events", required=True, help="events in the JSON Lines interchange format")
    e.add_argument(
        "--split",
        type=open_fraction,
        default=0.8,
        help="fraction (by time) used for training (default 0.8)",
    )
    e.add_argument("--max-steps", type=positive_int, default=None, help="cap the training steps")
    e.add_argument(
        "--max-positions",
        type=positive_int,
        default=200,
        help="held-out positions scored (default 200)",
    )
    e.add_argument("--json", action="store_true", help="print the scores as JSON")
    e.set_defaults(func=run_eval_next_event)


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(s)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _print_progress(p) -> None:
    val = f" val {p.val_loss:.3f}" if p.val_loss is not None else ""
    print(
        f"step {p.step}/{p.total_steps} loss {p.loss:.3f}{val} "
        f"{p.tokens_per_s:.0f} tok/s ETA {_fmt_s(p.eta_s)}",
        flush=True,
    )


def _pick_session(ctx, args) -> tuple[int | None, str]:
    from selflow_qt.agents.training.runner import next_queued_session, queue_training
    from selflow_qt.store.queries.agents import best_pattern

    if args.pattern is not None or args.workflow:
        return queue_training(ctx, args.pattern, workflow=args.workflow), "as asked"
    sid = next_queued_session(ctx.db)
    if sid is not None:
        return sid, "queued by the analysis"
    best = best_pattern()
    if best is not None:
        pattern_id, name = best
        return queue_training(ctx, pattern_id), f"best pattern #{pattern_id} {name!r}"
    print(
        "No analysis has run yet (run `selflow analyze` to find workflows); "
        "training a general agent on all recent events."
    )
    return queue_training(ctx), "all recent events"


def run_train(args: argparse.Namespace) -> int:
    from selflow_qt.agents.evaluation.evaluation import Metrics, format_table
    from selflow_qt.agents.training.runner import TrainingRunner, next_queued_session
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.queries.agents import session_model_id

    ctx = StoreContext.open(args.data_dir)
    try:
        sid, why = _pick_session(ctx, args)
    except ValueError as exc:
        print(f"selflow train: {exc}", file=sys.stderr)
        return 2
    print(f"training session {sid} ({why}): {session_model_id(sid)}", flush=True)
    outcome = TrainingRunner(ctx.data_dir).run(
        sid, on_progress=_print_progress, max_steps=args.max_steps
    )
    if outcome.status != "completed":
        print(f"training {outcome.status}: {outcome.error}", file=sys.stderr)
        return 1
    if outcome.final_loss is not None:
        print(f"completed: {outcome.model_id} (final loss {outcome.final_loss:.3f})")
    else:
        print(f"completed: {outcome.model_id} ({outcome.no_adapter or 'no adapter trained'})")
    if outcome.metrics:
        table = {k: Metrics(**v) for k, v in outcome.metrics.items()}
        print(format_table(table, "offline evaluation on the latest 10% (by time):"))
    left = next_queued_session(ctx.db)
    if left is not None:
        print("more sessions are queued; run `selflow train` again to train the next one")
    return 0


def agent_rankings(ctx) -> list[dict]:
    """The rows of `selflow agents`: the one leaderboard (``agents.serving.leaderboard``) the tray and the
    docks show, in its order, less retired agents (counted apart).

    Online: the bandit's resolved suggestions, or an agent's own record where that is longer.
    Offline: hit@1/MRR on held-out data, as the leaderboard reads them.
    """
    from selflow_qt.agents.serving.leaderboard import agent_ranking

    ranking, _ = agent_ranking(ctx.db, ctx.settings)
    shown = [r for r in ranking if r.kind != "agent" or r.active]
    return [
        {
            "rank": i,
            "arm": r.arm_id,
            "kind": r.kind,
            "success_rate": r.success_rate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "latency_ms": r.mean_latency_ms,
            "queries": r.queries,
            "successes": r.successes,
            "offline_hit1": r.hit1,
            "offline_mrr": r.mrr,
            "specialization": r.specialization,
        }
        for i, r in enumerate(shown, 1)
    ]


def run_agents(args: argparse.Namespace) -> int:
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.queries.agents import retired_agent_count

    data_dir = recorded_data_dir(args)
    if data_dir is None:
        return 1
    ctx = StoreContext.open(data_dir)
    rows = agent_rankings(ctx)
    retired = retired_agent_count()
    if args.json:
        print(
            json.dumps(
                {"policy": ctx.settings.bandit_policy, "arms": rows, "retired": retired}, indent=2
            )
        )
        return 0
    print(
        f"bandit policy: {ctx.settings.bandit_policy} (exploration {ctx.settings.exploration_rate})"
    )
    print(
        f"{'':2} {'#':>2} {'predictor':<30} {'kind':<8} {'success':>7} {'95% CI':>13} "
        f"{'lat ms':>7} {'queries':>7} {'off hit@1':>9} {'off MRR':>7}"
    )
    for r in rows:
        badge = medal(r["rank"]) or "  "
        ci = f"{r['ci_low']:.2f}-{r['ci_high']:.2f}"
        h1 = "" if r["offline_hit1"] is None else f"{r['offline_hit1']:.3f}"
        mrr = "" if r["offline_mrr"] is None else f"{r['offline_mrr']:.3f}"
        print(
            f"{badge:2} {r['rank']:>2} {r['arm']:<30} {r['kind']:<8} {r['success_rate']:>7.2f} "
            f"{ci:>13} {r['latency_ms']:>7.1f} {r['queries']:>7} {h1:>9} {mrr:>7}"
        )
    if retired:
        print(f"({retired} retired agent(s) not shown; max_models = {ctx.settings.max_models})")
    return 0


PREDICT_MODEL_WAIT_S = 300.0  # an agent served with its model: loading it takes 10-60 s


def run_predict(args: argparse.Namespace) -> int:
    from selflow_qt.agents.serving.serving import SuggestionService
    from selflow_qt.store.context import resolve_data_dir

    service = SuggestionService(resolve_data_dir(args.data_dir))
    service.model_wait_s = PREDICT_MODEL_WAIT_S  # one answer, the agent's own: its model loads
    try:
        service.resolve_pending()
        sugg = service.suggest(args.k)
    finally:
        service.close()
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(s) for s in sugg], indent=2, ensure_ascii=False))
        return 0
    if not sugg:
        print("no suggestions yet: SelFlow has not seen any actions")
        return 0
    print(f"next actions (predictor: {sugg[0].predictor}):")
    for i, s in enumerate(sugg, 1):
        print(f"{i}. [{s.kind}] {s.text}  (score {s.score:.3f})")
    return 0


def run_eval_next_event(args: argparse.Namespace) -> int:
    from pathlib import Path

    from selflow_qt.agents.evaluation.evaluation import format_table
    from selflow_qt.agents.training.eval_stream import evaluate_stream, read_jsonl
    from selflow_qt.core.settings import Settings, resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    try:
        events = read_jsonl(Path(args.events))
    except (OSError, ValueError) as exc:
        print(f"selflow eval: {exc}", file=sys.stderr)
        return 2

    def on_message(msg: dict) -> None:
        # The first step (the training has started), every 10th, and those with a validation loss.
        step = msg.get("step", 0)
        if msg.get("event") == "progress" and (step == 1 or step % 10 == 0 or msg.get("val_loss")):
            val = f" val {msg['val_loss']:.3f}" if msg.get("val_loss") is not None else ""
            print(
                f"step {msg['step']}/{msg['total_steps']} loss {msg['loss']:.3f}{val} "
                f"{msg['tokens_per_s']:.0f} tok/s",
                file=sys.stderr,
                flush=True,
            )
        elif msg.get("event") == "evaluating":
            print(
                f"evaluating on {msg['positions']} held-out positions", file=sys.stderr, flush=True
            )
        elif msg.get("event") == "weighing-lm":
            print(
                f"weighing the language model on {msg['positions']} positions",
                file=sys.stderr,
                flush=True,
            )

    try:
        metrics, result = evaluate_stream(
            events,
            data_dir,
            Settings.load(data_dir),
            split=args.split,
            max_steps=args.max_steps,
            max_positions=args.max_positions,
            on_message=on_message,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"selflow eval: {exc}", file=sys.stderr)
        return 1
    if args.json:
        out = {
            "events": len(events),
            "split": args.split,
            "training": result.get("training", {}),
            "agent": result.get("ranker", {}),
            "margin_over_best_baseline": result.get("margin_over_best_baseline"),
            "predictors": {k: m.to_dict() for k, m in metrics.items()},
        }
        print(json.dumps(out, indent=2))
        return 0
    print(
        format_table(
            metrics, f"next-event prediction on the last {1 - args.split:.0%} of {args.events}:"
        )
    )
    margin = result.get("margin_over_best_baseline")
    if margin is not None:
        lm = (result.get("ranker") or {}).get("lm_weight", 0.0)
        print(f"agent's hit@1 margin over the best baseline: {margin:+.3f} (LM weight {lm})")
    return 0
