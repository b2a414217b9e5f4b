"""The language model as one more signal: how much its score should move the ranker's order.

The adapter's mean log-probability per token of each of the ranker's top candidates is added to
the ranker's log-probability with a weight chosen on the newest slice of the training split (the
adapter is trained on what came before it). The weight stays 0 unless the LM clearly helps there,
so the agent never pays the LM's latency for nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from selflow_qt.agents.evaluation.evaluation import positions
from selflow_qt.agents.ranking.predictors import Context
from selflow_qt.agents.ranking.ranker import clearly_better
from selflow_qt.agents.ranking.ranking_agent import CONTEXT_EVENTS, RankingAgent

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
# Positions the weight is judged on at the least (as ``lm_trust``'s judgement): on 2 or 3, one
# lucky position looked "clearly better" and a short training served the model for nothing.
MIN_POSITIONS = 10


def fit_lm_weight(
    agent: RankingAgent,
    stream: Context,
    lo: int,
    hi: int,
    scorer: Callable[[Context, list[str]], list[float]],
    *,
    max_positions: int = 120,
    on_position: Callable[[int, int], None] | None = None,
) -> tuple[float, dict]:
    """The LM weight for ``agent`` chosen on ``stream[lo:hi]`` (a replay from ``stream[:lo]``).

    ``agent`` is copied (its counts rewound to ``lo``); returns (weight, report).
    """
    stream = list(stream)
    probe = RankingAgent(agent.name, agent.model, fallback=agent.fallback)
    probe.observe(stream[:lo], judge=False)
    chosen = set(positions(lo, hi, max_positions))
    rows: list[tuple[list[float], list[float], int]] = []
    for i in range(lo, hi):
        if i in chosen:
            ctx = stream[max(0, i - CONTEXT_EVENTS) : i]
            head = probe.base_ranking(ctx, agent.lm_top)
            keys = [c.key for c in head]
            lm = scorer(ctx, keys) if keys else []
            target = keys.index(stream[i][1]) if stream[i][1] in keys else -1
            rows.append(([c.score for c in head], lm, target))
            if on_position is not None:
                on_position(len(rows), len(chosen))
        probe.observe([stream[i]], judge=False)
    hits = {w: [_top(base, lm, w) == t and t >= 0 for base, lm, t in rows] for w in WEIGHTS}
    best = max(WEIGHTS, key=lambda w: (sum(hits[w]), -w))
    report = {
        "lm_positions": len(rows),
        "lm_hit1_by_weight": {str(w): sum(h) / max(1, len(h)) for w, h in hits.items()},
    }
    if len(rows) < MIN_POSITIONS:
        return 0.0, {**report, "lm_weight": 0.0, "lm_reason": "too few positions to judge"}
    if best == 0.0 or not clearly_better(hits[best], hits[0.0]):
        return 0.0, {**report, "lm_weight": 0.0, "lm_reason": "the LM did not clearly help"}
    return best, {**report, "lm_weight": best}


def _top(base: list[float], lm: list[float], w: float) -> int:
    if not base:
        return -1
    scores = [b + w * v for b, v in zip(base, lm, strict=True)]
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def with_lm(agent: RankingAgent, scorer, weight: float) -> RankingAgent:
    """A shallow copy of ``agent`` that consults the LM with ``weight``."""
    out = copy.copy(agent)
    out.lm_scorer, out.lm_weight = scorer, weight
    return out
