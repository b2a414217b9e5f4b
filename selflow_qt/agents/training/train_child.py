"""The training child's work: ``child_main`` runs in a child process (``core.supervisor``).

Reads a job (events file, split time, config, output folder), trains a LoRA adapter, evaluates it
against the baselines on the held-out part, saves it, and sends messages to its parent:
``{"event": "progress", ...}`` per step, then ``{"event": "result", ...}`` (also its return
value). An error ends it with a one-line reason; SIGTERM, or its parent's death, stops it between
steps, and at any other phase within 2 s (``core.child``), nothing saved. An orphan removes its
job folder on its way out.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from selflow_qt.agents.model.dataset import CONTEXT_LINES, MAX_EXAMPLES, build_examples, data_hash
from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.training.budget import (
    EVAL_PER_LM_POSITION,
    EVAL_POSITIONS,
    JOB_BUDGET_S,
    LM_POSITIONS,
    MAX_CURVE_POINTS,
    MIN_EVAL_POSITIONS,
    MIN_LM_POSITIONS,
    Budget,
    timed,
    times_the_model,
)
from selflow_qt.agents.training.fast_stage import fast_stage
from selflow_qt.core.cancel import Cancelled
from selflow_qt.core.event import Event, event_from_json
from selflow_qt.core.privacy import redact_text

Emit = Callable[[dict], None]


def read_jsonl(path: Path) -> list[Event]:
    """Events of an interchange file, in file order; a bad line raises ValueError naming it."""
    events = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                events.append(event_from_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: {exc}") from None
    return events


@dataclass
class Split:
    """The job's stream split by time (agents.model.lm_agent): the ranker and the adapter learn what
    came before the newest slice; the slice fits how far to trust the model (its older part also
    stops the adapter's training early) and judges it (its newest part); the rest is scored."""

    stream: list
    start: int  # first scored position
    points: Any  # lm_agent.split_points(start)
    train: list
    val: list
    context_lines: int


def split_job(job: dict, events: list[Event]) -> Split:
    from selflow_qt.agents.model.lm_agent import split_points

    split_ts = float(job["split_ts"])
    context_lines = int(job.get("context_lines", CONTEXT_LINES))
    examples = build_examples(events, context_lines)
    stream = keyed(events)
    start = next((i for i, (ev, _) in enumerate(stream) if ev.ts >= split_ts), len(stream))
    sp = split_points(start)
    lm_ts = stream[sp.lm_lo][0].ts if sp.lm_lo < len(stream) else split_ts
    judge_ts = stream[sp.judge_lo][0].ts if sp.judge_lo < len(stream) else split_ts
    train = [e for e in examples if e.ts < lm_ts][-int(job.get("max_examples", MAX_EXAMPLES)) :]
    val = [e for e in examples if lm_ts <= e.ts < judge_ts]
    if len(train) < 8:
        raise ValueError(
            f"only {len(train)} training examples in {len(events)} events; at least 8 are needed"
        )
    return Split(stream, start, sp, train, val, context_lines)


def train_stage(
    job: dict, split: Split, emit: Emit, should_stop: Callable[[], bool], budget: Budget
):
    """Load the base model and train the adapter (within its share of ``budget``);
    (model, tokenizer, config, result, load s)."""
    from selflow_qt.agents.model.base_model import BaseModelSpec, load_base_model
    from selflow_qt.agents.model.trainer import TrainConfig, train_adapter

    known = {f.name for f in fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in job.get("config", {}).items() if k in known})
    if isinstance(cfg.target_modules, list):
        cfg.target_modules = tuple(cfg.target_modules)
    spec = BaseModelSpec(**job["base_model"])
    t_load = time.perf_counter()
    model, tok = load_base_model(spec, Path(job["data_dir"]), device=job.get("device"))
    load_s = time.perf_counter() - t_load
    cfg.max_seconds = budget.adapter_seconds(cfg.max_seconds)
    budget.plan["adapter_seconds"] = cfg.max_seconds

    def progress(r) -> None:
        emit({"event": "progress", **asdict(r)})

    pmodel, result = train_adapter(
        model, tok, split.train, split.val, cfg, progress=progress, should_stop=should_stop
    )
    if result.cancelled:
        emit({"event": "cancelled", "step": result.steps})
        raise Cancelled("training stopped")
    return pmodel, tok, cfg, result, load_s


def base_meta(job: dict, split: Split, cfg=None) -> dict:
    """What the adapter's metadata says of its job, its config and its data."""
    # Redacted again: a database written before a rule existed may still hold the secret.
    top = [redact_text(k) for k, _ in Counter(e.target for e in split.train).most_common(8)]
    return {
        "model_id": job["model_id"],
        "base_model": job["base_model"],
        "lora": None
        if cfg is None  # no adapter trained (model_free_stage)
        else {
            "r": cfg.lora_r,
            "alpha": cfg.lora_alpha,
            "dropout": cfg.lora_dropout,
            "target_modules": list(cfg.target_modules),
        },
        "train_config": None if cfg is None else dict(asdict(cfg).items()),
        "data_hash": data_hash(split.train),
        "context_lines": split.context_lines,
        "top_targets": top,
        "n_train": len(split.train),
        "n_val": len(split.val),
        "pattern_id": job.get("pattern_id"),
        "specialization": job.get("specialization", ""),
    }


@dataclass
class Predictors:
    """The baselines, the agent (the ranker over the count models, the LM weighed in), the
    ranker without the LM's lines, the adapter alone, and what fitting them reported."""

    baselines: dict
    agent: Any
    no_lm: Any
    lm_agent: Any
    ranker: Any
    report: dict


def ranker_stage(
    job: dict, split: Split, pmodel, tok, meta: dict, emit: Emit, budget: Budget
) -> Predictors:
    """Fit the ranking agent, weigh the language model on the slice, let the model write lines.

    The adapter alone, re-ranking the baselines' candidates, is scored beside the agent as
    "<id>-lm" (in memory the adapter is PEFT's "default")."""
    from selflow_qt.agents.model.adapters import AgentPredictor
    from selflow_qt.agents.model.base_model import cpu_bf16_ok
    from selflow_qt.agents.model.lm_agent import add_written_lines
    from selflow_qt.agents.model.lm_feature import fit_lm_weight, with_lm
    from selflow_qt.agents.model.lm_writer import LineWriter
    from selflow_qt.agents.ranking.predictors import make_baselines
    from selflow_qt.agents.ranking.ranking_agent import CONTEXT_EVENTS, fit_ranking_agent

    stream, start, lm_lo = split.stream, split.start, split.points.lm_lo
    params = getattr(pmodel, "parameters", None)  # none on a converted model (fast_stage)
    bf16 = params is not None and str(next(params()).device) == "cpu" and cpu_bf16_ok()
    baselines = make_baselines(stream[:start])  # the adapter's candidates: markov-2's
    t_fit = time.perf_counter()
    ranker = fit_ranking_agent(job["model_id"], stream[:lm_lo])
    ranker_s = time.perf_counter() - t_fit
    lm_agent = AgentPredictor("default", pmodel, tok, meta, baselines["markov-2"].predict, bf16)
    writer = LineWriter(pmodel, tok, context_lines=split.context_lines)  # float32 decodes faster
    # What one answer of the model costs here, measured once, sizes the slice to the budget
    # (not where nothing asked for is above the floors: a quick try).
    wanted = int(job.get("lm_positions", LM_POSITIONS))
    score_s = write_s = 0.0
    if times_the_model(job):
        ctx = stream[max(0, lm_lo - CONTEXT_EVENTS) : lm_lo]
        keys = [c.key for c in baselines["markov-2"].predict(ctx, ranker.lm_top)]
        score_s = timed(lambda: lm_agent.score(ctx, keys)) if keys else 0.0
        write_s = timed(lambda: writer.lines(ctx))
    # Both slices' positions, and the evaluation's (each at most a line written and two scorings).
    each = score_s + write_s + (2 * write_s + 2 * score_s) * EVAL_PER_LM_POSITION
    lm_n = budget.positions(wanted, MIN_LM_POSITIONS, each)
    budget.plan.update(score_s=score_s, write_s=write_s, lm_positions=lm_n)
    emit({"event": "weighing-lm", "positions": min(lm_n, start - lm_lo)})
    t_weigh = time.perf_counter()
    weight, lm_report = fit_lm_weight(
        ranker, stream, lm_lo, start, lm_agent.score, max_positions=lm_n
    )
    ranker.lm_weight = weight
    # The model writes lines; the slice decides whether they are used (lm_useful).
    t_write = time.perf_counter()
    ranker, no_lm, lines_report = add_written_lines(
        ranker, writer, stream, split.points, max_positions=lm_n
    )
    phases = {
        "ranker": ranker_s,
        "timing the model's answers": score_s + write_s,
        "weighing the model": t_write - t_weigh,
        "the model's lines": time.perf_counter() - t_write,
    }
    report = {
        **ranker.report,
        **lm_report,
        **lines_report,
        "uses_ranker": ranker.uses_ranker,
        "fit_seconds": ranker_s,
        "generation_ms": writer.latencies_ms[-200:],
        "bf16": bf16,
        "phases": phases,
    }
    agent = with_lm(ranker, lm_agent.score, weight)
    return Predictors(baselines, agent, no_lm, lm_agent, ranker, report)


def model_free_stage(job: dict, split: Split) -> Predictors:
    """The agent without the language model, for a pattern where its last training showed the
    model added nothing (``job["lm_skipped"]`` says why): no model is loaded and no adapter
    trained; otherwise the agent ``ranker_stage`` calls agent-no-lm."""
    import copy

    from selflow_qt.agents.ranking.predictors import make_baselines
    from selflow_qt.agents.ranking.ranking_agent import fit_ranking_agent

    stream, start, lm_lo = split.stream, split.start, split.points.lm_lo
    t_fit = time.perf_counter()
    # As in ranker_stage, less the model: the trees learn up to the slice, which it then replays
    # online (the record of who guesses right, and so its answerer, comes from there).
    ranker = fit_ranking_agent(job["model_id"], stream[:lm_lo])
    ranker.observe(stream[lm_lo:start])
    report = {
        **ranker.report,
        "uses_ranker": ranker.uses_ranker,
        "fit_seconds": time.perf_counter() - t_fit,
        "lm_useful": False,
        "lm_reason": job["lm_skipped"],
        "bf16": False,
        "phases": {"ranker": time.perf_counter() - t_fit},
    }
    no_lm = copy.deepcopy(ranker)  # its own copy: each learns the scored events once
    return Predictors(make_baselines(stream[:start]), ranker, no_lm, None, ranker, report)


def evaluate_stage(
    job: dict, split: Split, preds: Predictors, emit: Emit, budget: Budget | None = None
) -> dict:
    """Score the agent, its parts, the baselines and zsh-autosuggestions' strategies (their
    keys_saved) on the held-out part; the metrics, margin and the LM's share for the metadata."""
    from selflow_qt.agents.evaluation.evaluation import evaluate_offline, margin_over_best_baseline
    from selflow_qt.agents.ranking.prompt import PromptAgent, zsh_predictors

    stream, start, model_id = split.stream, split.start, job["model_id"]
    no_lm_id = f"{model_id}-no-lm"
    n_pos = int(job.get("eval_positions", EVAL_POSITIONS))
    if budget is not None and preds.lm_agent is not None:
        plan = budget.plan  # the agent asks the model (twice: its answer and the prompt's rank)
        writes = preds.ranker.writes_lines
        each = 2 * (plan.get("write_s", 0.0) if writes else 0.0) + plan.get("score_s", 0.0) * (
            2 if preds.ranker.lm_weight > 0 else 1
        )
        n_pos = budget.positions(n_pos, MIN_EVAL_POSITIONS, each)
        plan["eval_positions"] = n_pos
    emit({"event": "evaluating", "positions": min(n_pos, len(stream) - start)})
    metrics = evaluate_offline(
        {
            **preds.baselines,
            **zsh_predictors(stream[:start]),
            model_id: PromptAgent(preds.agent, stream[:start]),
            no_lm_id: PromptAgent(preds.no_lm, stream[:start]),
            **({f"{model_id}-lm": preds.lm_agent} if preds.lm_agent is not None else {}),
        },
        stream,
        start,
        max_positions=n_pos,
    )
    return {
        "metrics": {name: m.to_dict() for name, m in metrics.items()},
        "margin_over_best_baseline": margin_over_best_baseline(metrics, model_id),
        "lm_share": metrics[model_id].hit1_full - metrics[no_lm_id].hit1_full,
        # never-typed lines the model's lines brought among the five shown
        "lm_novel5": metrics[model_id].hit5_novel - metrics[no_lm_id].hit5_novel,
    }


def training_report(result, load_s: float, threads: int, bf16: bool) -> dict:
    return {
        "steps": result.steps,
        "total_steps": result.total_steps,
        "final_loss": result.final_loss,
        "val_loss_before": result.val_loss_before,
        "val_loss_after": result.val_loss_after,
        "tokens": result.tokens,
        "seconds": result.seconds,
        "tokens_per_s": result.tokens_per_s,
        "early_stopped": result.early_stopped,
        "out_of_time": result.out_of_time,
        "load_seconds": load_s,
        "threads": threads,
        "bf16": bf16,
        # The curve the Training Center draws for the last run (steps are at most a few hundred).
        "curve": {
            "loss": [round(x, 4) for x in result.losses[:MAX_CURVE_POINTS]],
            "val": [[s, round(v, 4)] for s, v in result.val_points[:MAX_CURVE_POINTS]],
        },
    }


def run_job(job: dict, emit: Emit, should_stop: Callable[[], bool] = lambda: False) -> dict:
    """Train, fit, evaluate and save one job's agent; returns (and emits) its metadata."""
    from selflow_qt.agents.model.adapters import save_adapter
    from selflow_qt.agents.model.base_model import offline_env, set_threads

    offline_env()
    threads = set_threads()
    budget = Budget(float(job.get("budget_s") or JOB_BUDGET_S))
    split = split_job(job, read_jsonl(Path(job["events_path"])))
    t0 = time.perf_counter()
    phases: dict[str, float] = {}
    staged = None
    if job.get("lm_skipped"):
        training = {"steps": 0, "total_steps": 0, "adapter": "skipped"}
        meta = base_meta(job, split)
        preds = model_free_stage(job, split)
    else:
        pmodel, tok, cfg, result, load_s = train_stage(job, split, emit, should_stop, budget)
        phases.update({"loading the model": load_s, "the adapter": result.seconds})
        t_fast = time.perf_counter()
        model, tok, staged = fast_stage(job, pmodel, tok, emit)
        del pmodel
        phases["converting the model"] = time.perf_counter() - t_fast
        meta = base_meta(job, split, cfg)
        meta["runtime"] = "ctranslate2" if hasattr(model, "generator") else "torch"
        preds = ranker_stage(job, split, model, tok, meta, emit, budget)
        training = training_report(result, load_s, threads, preds.report["bf16"])
    phases.update(preds.report.pop("phases"))
    t_eval = time.perf_counter()
    meta.update(evaluate_stage(job, split, preds, emit, budget))
    phases["evaluating"] = time.perf_counter() - t_eval
    preds.report.pop("bf16")
    meta["ranker"] = {**preds.report, "lm_share": meta["lm_share"]}  # lm_val_share: the slice's
    meta["training"] = {
        **training,
        "wall_seconds": time.perf_counter() - t0,
        "phases": phases,
        "budget": {"seconds": budget.seconds, **budget.plan},
    }
    save_adapter(None, Path(job["out_dir"]), meta, files_from=staged)
    preds.ranker.save(Path(job["out_dir"]))
    emit({"event": "result", **meta})
    return meta


def child_main(channel, job_path: str) -> dict:
    """The training child (``core.supervisor`` runs it): one job file, messages to the parent."""
    try:
        job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{job_path}: cannot read the training job: {exc}") from None
    return run_job(job, channel.progress, channel.should_stop)
