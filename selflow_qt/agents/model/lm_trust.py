"""When to trust the model's lines: how much of the next line's chance is the model's.

The agent's counted candidates keep their order; their chance of being the next line is
calibrated by rank, and the model's lines bring the model's own probability of each line
(``ranking.line_mix``). The model's share ``lam`` is fitted (maximum likelihood over a grid) on
positions that neither the ranker nor the adapter was trained on, and judged on the newest part
of them against the same agent without the model: where the model adds nothing there (no exact
line gained at the top, nor among the first five at no loss at the top) the agent never asks
the model, and its report says so (``lm_useful: false``).

A linear weighting of the model's features (the previous layer) never fitted a weight that
showed a line only the model wrote: on the training games hit5_novel stayed 0. The mixture needs
one share, not a weight per feature, so the few positions of a slice can fit it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selflow_qt.agents.ranking.line_mix import RANKS, MixTrust, counted_ranks, mixed_scores, parts


@dataclass
class TrustRow:
    """One position: base scores of every candidate, their model features, the true line's row
    (-1: no candidate had the exact next line)."""

    base: np.ndarray
    G: np.ndarray
    target: int


LAMBDAS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
BETAS = (0.25, 0.5, 0.75, 1.0)
SMOOTH = 0.5  # pseudo-hits per calibrated rank


def calibrate(rows: list[TrustRow]) -> np.ndarray:
    """How often the counted candidate at each rank was the next line (the last rank pools
    every rank from there on, per candidate); smoothed and made non-increasing."""
    hits = np.zeros(RANKS)
    slots = np.zeros(RANKS)  # candidates offered at each rank (the last: all from there on)
    for r in rows:
        ranks = counted_ranks(r.base, r.G)
        n = int(np.sum(ranks >= 0))
        slots[: min(n, RANKS - 1)] += 1
        slots[RANKS - 1] += max(0, n - (RANKS - 1))
        if r.target >= 0 and ranks[r.target] >= 0:
            hits[min(int(ranks[r.target]), RANKS - 1)] += 1
    chances = (hits + SMOOTH * 0.01) / (np.maximum(slots, 1) + SMOOTH)
    return np.minimum.accumulate(chances)


def fit_mix(rows: list[TrustRow]) -> MixTrust:
    """The counted chances by rank, then the model's share and temper that put the most next
    lines first on ``rows`` (then the most among the first five, then the likelihood of the
    lines typed next): the likelihood alone favours a flat temper that trades first guesses
    for later ones."""
    chances = calibrate(rows)
    use = [r for r in rows if r.target >= 0]
    best, best_key = MixTrust(0.0, chances), None
    for beta in BETAS:
        at = [parts(r.base, r.G, chances, beta) for r in use]
        pc = np.array([c[r.target] for (c, _), r in zip(at, use, strict=True)])
        pm = np.array([m[r.target] for (_, m), r in zip(at, use, strict=True)])
        for lam in LAMBDAS:
            trust = MixTrust(lam, chances, beta if lam > 0 else 1.0)
            ll = float(np.sum(np.log((1 - lam) * pc + lam * pm + 1e-9)))
            key = (sum(mix_hits(use, trust, 1)), sum(mix_hits(use, trust, 5)), ll)
            if best_key is None or key > best_key:
                best, best_key = trust, key
    return best


def mix_hits(rows: list[TrustRow], trust: MixTrust | None, k: int) -> list[bool]:
    out = []
    for r in rows:
        if r.target < 0 or len(r.base) == 0:
            out.append(False)
            continue
        if trust is None:  # the agent's own order; a line only the model wrote is not shown
            ranks = counted_ranks(r.base, r.G)
            s = np.where(ranks >= 0, -ranks.astype(float), -np.inf)
        else:
            s = mixed_scores(r.base, r.G, trust)
        t = s[r.target]
        if not np.isfinite(t):
            out.append(False)
            continue
        ahead = int(np.sum(s > t)) + int(np.sum(s[: r.target] == t))
        out.append(ahead < k)
    return out


def choose_weights(
    rows: list[TrustRow], judge_fraction: float = 1 / 3
) -> tuple[np.ndarray | None, dict]:
    """Fit the mixture (``line_mix``) on the older rows, judge it on the newest
    ``judge_fraction`` against no model; keep the model (refitted on every row) only where it
    adds exact-line hits there. Returns the mixture's vector (None: the model writes nothing)."""
    cut = int(len(rows) * (1 - judge_fraction))
    fit, judge = rows[:cut], rows[cut:]
    report: dict = {"lm_fit_positions": len(fit), "lm_val_positions": len(judge)}
    if len(judge) < 10 or sum(r.target >= 0 for r in fit) < 10:
        return None, {**report, "lm_useful": False, "lm_reason": "too few positions to judge"}
    trust = fit_mix(fit)
    with_lm, without = mix_hits(judge, trust, 1), mix_hits(judge, None, 1)
    share = float(np.mean(with_lm) - np.mean(without))
    share5 = float(np.mean(mix_hits(judge, trust, 5)) - np.mean(mix_hits(judge, None, 5)))
    in_set = [r.target >= 0 and r.G[r.target, 0] > 0 for r in judge]
    report.update(
        lm_val_share=share,
        lm_val_share5=share5,
        lm_val_hit1_full=float(np.mean(with_lm)),
        lm_val_hit1_full_without=float(np.mean(without)),
        lm_val_wrote_next_line=float(np.mean(in_set)),
        lm_val_model_share=trust.lam,
        lm_val_model_temper=trust.beta,
    )
    # Kept where they add first guesses, or where they add lines to the five shown and cost no
    # first guess: judged on hit@1 alone, lines that are right as a second guess never showed.
    if trust.lam == 0 or share < 0 or (share == 0 and share5 <= 0):
        return None, {
            **report,
            "lm_useful": False,
            "lm_reason": "the model's lines added no exact-line hit on validation",
        }
    trust = fit_mix(rows)
    if trust.lam == 0:
        return None, {**report, "lm_useful": False, "lm_reason": "refitted, the model's share is 0"}
    return trust.vector, {
        **report,
        "lm_useful": True,
        "lm_model_share": trust.lam,
        "lm_model_temper": trust.beta,
        "lm_rank_chances": [round(float(c), 4) for c in trust.chances],
    }
