"""An agent whose language model writes candidates, fitted with a three-way split by time.

Of the positions before ``start`` (the rest is scored), the oldest part trains the ranker and
the LoRA adapter; the newest slice (``LM_SLICE_FRACTION``, at least ``LM_SLICE_MIN``) is
replayed with the model writing lines, and fits when to trust them (``lm_trust``): its older
two thirds fit the weights (and stop the adapter's training early), its newest third judges
them against the same agent without the model. No model, adapter or weight is trained on a
position it is judged or scored on.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selflow_qt.agents.evaluation.evaluation import positions
from selflow_qt.agents.model.dataset import examples_of
from selflow_qt.agents.model.lm_trust import TrustRow, choose_weights
from selflow_qt.agents.model.lm_writer import LineWriter
from selflow_qt.agents.ranking.actions import full_key
from selflow_qt.agents.ranking.predictors import Context
from selflow_qt.agents.ranking.ranking_agent import CONTEXT_EVENTS, RankingAgent, fit_ranking_agent
from selflow_qt.core.cancel import Cancelled

LM_SLICE_FRACTION = 0.2
LM_SLICE_MIN = 60
LM_SLICE_MAX = 400  # each slice position costs one generated answer
JUDGE_FRACTION = 1 / 3


@dataclass
class SplitPoints:
    """Positions [0, lm_lo): ranker and adapter; [lm_lo, judge_lo): trust weights (and the
    adapter's early stop); [judge_lo, start): their judgement; [start, ...): scored."""

    lm_lo: int
    judge_lo: int
    start: int


def split_points(start: int) -> SplitPoints:
    size = min(LM_SLICE_MAX, max(LM_SLICE_MIN, int(start * LM_SLICE_FRACTION)))
    lm_lo = max(1, start // 2, start - size)
    judge_lo = lm_lo + int((start - lm_lo) * (1 - JUDGE_FRACTION))
    return SplitPoints(lm_lo, judge_lo, start)


@dataclass
class LMAgentFit:
    agent: RankingAgent  # writes lines where they helped on validation
    no_lm: RankingAgent  # the same agent, the model off (the ablation)
    report: dict


def trust_rows(
    agent: RankingAgent,
    writer: LineWriter,
    stream: Context,
    lo: int,
    hi: int,
    max_positions: int | None = None,
) -> list[TrustRow]:
    """Replay ``stream[lo:hi]`` through ``agent`` (it learns each event), recording at each
    position (at most ``max_positions``, evenly spaced) the candidates with the model's lines
    and where the exact next line is."""
    chosen = set(positions(lo, hi, max_positions))
    rows = []
    for i in range(lo, hi):
        if i in chosen:
            ctx = stream[max(0, i - CONTEXT_EVENTS) : i]
            cs, base = agent.lm_candidates(ctx, writer.lines(ctx))
            target = full_key(stream[i][0]) or stream[i][1]
            row = cs.fulls.index(target) if target in cs.fulls else -1
            rows.append(TrustRow(base, cs.gen_features(), row))
        agent.observe([stream[i]])
    return rows


def add_written_lines(
    agent: RankingAgent,
    writer: LineWriter,
    stream: Context,
    sp: SplitPoints,
    max_positions: int | None = None,
) -> tuple[RankingAgent, RankingAgent, dict]:
    """Weigh the model's lines with ``agent`` (which has learned ``stream[:sp.lm_lo]``) on the
    slice; returns (the agent, the same agent without the model's lines (the ablation), the
    report). Both are then fitted again on all of ``stream[:sp.start]``: the slice chose how
    far to trust the model, and the ranker it judged with would otherwise never learn the
    newest fifth of what it is scored after (on the training games it fell below counting)."""
    rows = trust_rows(agent, writer, stream, sp.lm_lo, sp.start, max_positions)
    trust, report = choose_weights(rows)
    report["split"] = {
        "ranker_adapter": [0, sp.lm_lo],
        "trust": [sp.lm_lo, sp.judge_lo],
        "judge": [sp.judge_lo, sp.start],
    }
    final = fit_ranking_agent(agent.name, stream[: sp.start])
    final.lm_weight, final.lm_top = agent.lm_weight, agent.lm_top
    final.report = {**final.report, **report}
    no_lm = copy.deepcopy(final)
    final.writer, final.trust = writer, trust
    return final, no_lm, report


def fast_writer(pmodel, tok, folder: Path) -> LineWriter:
    """A writer on the trained model converted to CTranslate2 int8 in ``folder``."""
    from selflow_qt.agents.model.fast_runtime import convert_trained, stage_adapter

    fast = convert_trained(pmodel, tok, stage_adapter(pmodel, folder, "bench"))
    return LineWriter(fast, fast.tok)


def fit_lm_agent(
    name: str,
    stream: Context,
    start: int,
    model,
    tok,
    config,
    *,
    progress: Callable | None = None,
    should_stop: Callable[[], bool] | None = None,
    fast_folder: Path | None = None,
) -> LMAgentFit:
    """Fit the agent on ``stream[:start]`` (see the module docstring); ``model`` is wrapped
    with a fresh LoRA adapter (pass a fresh copy of the base model). With ``fast_folder`` the
    trained model is merged and converted to CTranslate2 there, and writes its lines from that
    (as the training child and the model process do)."""
    from selflow_qt.agents.model.trainer import train_adapter

    stream = list(stream)
    sp = split_points(start)
    t0 = time.perf_counter()
    agent = fit_ranking_agent(name, stream[: sp.lm_lo])
    ranker_s = time.perf_counter() - t0
    train = examples_of(stream, 1, sp.lm_lo)
    val = examples_of(stream, sp.lm_lo, sp.judge_lo)
    pmodel, result = train_adapter(
        model, tok, train, val, config, progress=progress, should_stop=should_stop
    )
    if result.cancelled:
        raise Cancelled()
    writer = LineWriter(pmodel, tok)  # float32: see LineWriter.bf16
    if fast_folder is not None:
        writer = fast_writer(pmodel, tok, Path(fast_folder))
    t1 = time.perf_counter()
    agent, no_lm, report = add_written_lines(agent, writer, stream, sp)
    report.update(
        adapter={
            "steps": result.steps,
            "total_steps": result.total_steps,
            "early_stopped": result.early_stopped,
            "val_loss_before": result.val_loss_before,
            "val_loss_after": result.val_loss_after,
            "seconds": result.seconds,
            "examples": len(train),
        },
        ranker_seconds=ranker_s,
        slice_seconds=time.perf_counter() - t1,
    )
    agent.report = {**agent.report, **report}
    no_lm.report = dict(agent.report)
    writer.latencies_ms.clear()
    return LMAgentFit(agent, no_lm, report)
