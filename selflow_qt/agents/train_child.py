"""The training child process: ``python -m selflow_qt.agents.train_child JOB.json``.

Reads a job (events file, split time, config, output folder), trains a LoRA adapter, evaluates it
against the baselines on the held-out part, saves it, and streams JSON lines on stdout:
``{"event": "progress", ...}`` per step, then ``{"event": "result", ...}``. Errors go to stderr
with a non-zero exit code. SIGTERM, or its parent's death, stops it between steps, and at any
other phase within 2 s (``core.child``); exit code 3, nothing saved. An orphan removes its job
folder on its way out.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path

from selflow_qt.agents.actions import keyed
from selflow_qt.agents.child_process import EXIT_CANCELLED
from selflow_qt.agents.child_process import read_jsonl as read_events
from selflow_qt.agents.dataset import CONTEXT_LINES, MAX_EXAMPLES, build_examples, data_hash
from selflow_qt.core.child import end_with_parent
from selflow_qt.core.privacy import redact_text

FAIL_ENV = "SELFLOW_TRAIN_FAIL_AT_STEP"  # tests inject a crash at this step
EVAL_POSITIONS = 100
LM_POSITIONS = 60  # slice positions that weigh the LM (each costs a scoring and an answer)


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_job(job: dict, should_stop: Callable[[], bool] = lambda: False) -> dict:
    from selflow_qt.agents.adapters import AgentPredictor, save_adapter
    from selflow_qt.agents.base_model import (
        BaseModelSpec,
        cpu_bf16_ok,
        load_base_model,
        offline_env,
        set_threads,
    )
    from selflow_qt.agents.evaluation import evaluate_offline, margin_over_best_baseline
    from selflow_qt.agents.lm_agent import add_written_lines, split_points
    from selflow_qt.agents.lm_feature import fit_lm_weight, with_lm
    from selflow_qt.agents.lm_writer import LineWriter
    from selflow_qt.agents.predictors import make_baselines
    from selflow_qt.agents.prompt import zsh_predictors
    from selflow_qt.agents.ranking_agent import fit_ranking_agent
    from selflow_qt.agents.trainer import TrainConfig, train_adapter

    offline_env()
    threads = set_threads()

    events = read_events(Path(job["events_path"]))
    split_ts = float(job["split_ts"])
    context_lines = int(job.get("context_lines", CONTEXT_LINES))
    examples = build_examples(events, context_lines)
    stream = keyed(events)
    start = next((i for i, (ev, _) in enumerate(stream) if ev.ts >= split_ts), len(stream))
    # Three-way split by time (agents.lm_agent): the ranker and the adapter learn what came
    # before the newest slice; the slice fits how far to trust the model (its older part also
    # stops the adapter's training early) and judges it (its newest part); the rest is scored.
    sp = split_points(start)
    lm_lo = sp.lm_lo
    lm_ts = stream[lm_lo][0].ts if lm_lo < len(stream) else split_ts
    judge_ts = stream[sp.judge_lo][0].ts if sp.judge_lo < len(stream) else split_ts
    train = [e for e in examples if e.ts < lm_ts][-int(job.get("max_examples", MAX_EXAMPLES)) :]
    val = [e for e in examples if lm_ts <= e.ts < judge_ts]
    if len(train) < 8:
        raise ValueError(
            f"only {len(train)} training examples in {len(events)} events; at least 8 are needed"
        )
    known = {f.name for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in job.get("config", {}).items() if k in known})
    if isinstance(cfg.target_modules, list):
        cfg.target_modules = tuple(cfg.target_modules)

    spec = BaseModelSpec(**job["base_model"])
    t_load = time.perf_counter()
    model, tok = load_base_model(spec, Path(job["data_dir"]), device=job.get("device"))
    load_s = time.perf_counter() - t_load
    fail_at = int(os.environ.get(FAIL_ENV, "0") or 0)

    def progress(r) -> None:
        if fail_at and r.step >= fail_at:
            raise RuntimeError(f"injected failure at step {r.step} ({FAIL_ENV})")
        emit({"event": "progress", **asdict(r)})

    pmodel, result = train_adapter(
        model, tok, train, val, cfg, progress=progress, should_stop=should_stop
    )
    if result.cancelled:
        emit({"event": "cancelled", "step": result.steps})
        sys.exit(EXIT_CANCELLED)

    baselines = make_baselines(stream[:start])
    bf16 = str(next(pmodel.parameters()).device) == "cpu" and cpu_bf16_ok()
    # Redacted again: a database written before a rule existed may still hold the secret.
    top = [redact_text(k) for k, _ in Counter(e.target for e in train).most_common(8)]
    meta = {
        "model_id": job["model_id"],
        "base_model": job["base_model"],
        "lora": {
            "r": cfg.lora_r,
            "alpha": cfg.lora_alpha,
            "dropout": cfg.lora_dropout,
            "target_modules": list(cfg.target_modules),
        },
        "train_config": {k: v for k, v in asdict(cfg).items()},
        "data_hash": data_hash(train),
        "context_lines": context_lines,
        "top_targets": top,
        "n_train": len(train),
        "n_val": len(val),
        "pattern_id": job.get("pattern_id"),
        "specialization": job.get("specialization", ""),
    }
    # The agent is the ranker over the count models (scored under the agent's id); the adapter
    # alone, re-ranking the baselines' candidates, is scored beside it as "<id>-lm" (in memory
    # the adapter is PEFT's "default").
    t_fit = time.perf_counter()
    ranker = fit_ranking_agent(job["model_id"], stream[:lm_lo])
    ranker_s = time.perf_counter() - t_fit
    lm_agent = AgentPredictor("default", pmodel, tok, meta, baselines["markov-2"].predict, bf16)
    lm_n = int(job.get("lm_positions", LM_POSITIONS))
    emit({"event": "weighing-lm", "positions": min(lm_n, start - lm_lo)})
    weight, lm_report = fit_lm_weight(
        ranker, stream, lm_lo, start, lm_agent.score, max_positions=lm_n
    )
    ranker.lm_weight = weight
    # The model writes lines; the slice decides whether they are used (lm_useful).
    writer = LineWriter(pmodel, tok, context_lines=context_lines)  # float32 decodes faster
    no_lm, lines_report = add_written_lines(ranker, writer, stream, sp, max_positions=lm_n)
    agent = with_lm(ranker, lm_agent.score, weight)
    no_lm_id = f"{job['model_id']}-no-lm"
    n_pos = int(job.get("eval_positions", EVAL_POSITIONS))
    emit({"event": "evaluating", "positions": min(n_pos, len(stream) - start)})
    metrics = evaluate_offline(
        {
            **baselines,
            **zsh_predictors(stream[:start]),  # zsh-autosuggestions' strategies: keys_saved
            job["model_id"]: agent,
            no_lm_id: no_lm,
            f"{job['model_id']}-lm": lm_agent,
        },
        stream,
        start,
        max_positions=n_pos,
    )
    meta["metrics"] = {name: m.to_dict() for name, m in metrics.items()}
    meta["margin_over_best_baseline"] = margin_over_best_baseline(metrics, job["model_id"])
    meta["lm_share"] = metrics[job["model_id"]].hit1_full - metrics[no_lm_id].hit1_full
    meta["ranker"] = {
        **ranker.report,
        **lm_report,
        **lines_report,
        "uses_ranker": ranker.uses_ranker,
        "fit_seconds": ranker_s,
        "generation_ms": writer.latencies_ms[-200:],
        "lm_share": meta["lm_share"],  # on the scored part; lm_val_share: on the slice
    }
    meta["training"] = {
        "steps": result.steps,
        "total_steps": result.total_steps,
        "final_loss": result.final_loss,
        "val_loss_before": result.val_loss_before,
        "val_loss_after": result.val_loss_after,
        "tokens": result.tokens,
        "seconds": result.seconds,
        "tokens_per_s": result.tokens_per_s,
        "early_stopped": result.early_stopped,
        "load_seconds": load_s,
        "threads": threads,
        "bf16": bf16,
    }
    save_adapter(pmodel, Path(job["out_dir"]), meta)
    ranker.save(Path(job["out_dir"]))
    emit({"event": "result", **meta})
    return meta


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m selflow_qt.agents.train_child JOB.json", file=sys.stderr)
        return 2
    guard = end_with_parent(exit_code=EXIT_CANCELLED)
    try:
        job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{argv[0]}: cannot read the training job: {exc}", file=sys.stderr)
        return 2
    if job.get("work_dir"):  # the launcher's folder for this job: an orphan removes it
        guard.cleanup.append(Path(job["work_dir"]))
    try:
        run_job(job, guard.stopping.is_set)
    except MemoryError:
        print("out of memory while training", file=sys.stderr)
        return 4
    except Exception as exc:
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(f"training failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
