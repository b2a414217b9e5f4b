"""When to trust the model's lines: a small learned layer over the agent's own ranking.

The agent's ranking (its trees, or the baseline it falls back to) gives every counted candidate
a log-probability-like score; a line only the model wrote starts just below the fifth of them. The model's
features (``candidates.GEN_FEATURES``) then move each candidate by ``weights @ features``. The
weights are fitted (a softmax over each position's candidates, L2-regularised) on positions that
neither the ranker nor the adapter was trained on, and judged on the newest part of them against
the same agent without the model: where the model adds nothing there (no exact line gained at
the top, nor among the first five at no loss at the top) the weights stay 0, the agent never
asks the model, and its report says so (``lm_useful: false``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selflow_qt.agents.ranking.candidates import GEN_FEATURES

L2 = 0.05
STEPS = 400
LEARNING_RATE = 0.05


@dataclass
class TrustRow:
    """One position: base scores of every candidate, their model features, the true line's row
    (-1: no candidate had the exact next line)."""

    base: np.ndarray
    G: np.ndarray
    target: int


def combined(base: np.ndarray, G: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    return base if weights is None else base + G @ weights


def top1_hits(rows: list[TrustRow], weights: np.ndarray | None) -> list[bool]:
    return top_k_hits(rows, weights, 1)


def top_k_hits(rows: list[TrustRow], weights: np.ndarray | None, k: int) -> list[bool]:
    """Per row: is the true line among the ``k`` best scored (ties go to the earlier row, as a
    stable sort orders them)?"""
    out = []
    for r in rows:
        if r.target < 0 or len(r.base) == 0:
            out.append(False)
            continue
        s = combined(r.base, r.G, weights)
        t = s[r.target]
        ahead = int(np.sum(s > t)) + int(np.sum(s[: r.target] == t))
        out.append(ahead < k)
    return out


def fit_weights(rows: list[TrustRow], l2: float = L2, steps: int = STEPS) -> np.ndarray:
    """Weights maximising the log-likelihood of the true line among each position's candidates
    (Adam on the mean, an L2 penalty towards 0)."""
    w = np.zeros(len(GEN_FEATURES))
    use = [r for r in rows if r.target >= 0 and len(r.base) > 1]
    if not use:
        return w
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, steps + 1):
        grad = -l2 * w
        for r in use:
            s = r.base + r.G @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += (r.G[r.target] - p @ r.G) / len(use)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w += LEARNING_RATE * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def choose_weights(
    rows: list[TrustRow], judge_fraction: float = 1 / 3
) -> tuple[np.ndarray | None, dict]:
    """Fit on the older rows, judge on the newest ``judge_fraction`` against no model; keep the
    model (weights refitted on every row) only where it adds exact-line hits there."""
    cut = int(len(rows) * (1 - judge_fraction))
    fit, judge = rows[:cut], rows[cut:]
    report: dict = {"lm_fit_positions": len(fit), "lm_val_positions": len(judge)}
    if len(judge) < 10 or sum(r.target >= 0 for r in fit) < 10:
        return None, {**report, "lm_useful": False, "lm_reason": "too few positions to judge"}
    w = fit_weights(fit)
    with_lm, without = top1_hits(judge, w), top1_hits(judge, None)
    share = float(np.mean(with_lm) - np.mean(without))
    share5 = float(np.mean(top_k_hits(judge, w, 5)) - np.mean(top_k_hits(judge, None, 5)))
    in_set = [r.target >= 0 and r.G[r.target, 0] > 0 for r in judge]
    report.update(
        lm_val_share=share,
        lm_val_share5=share5,
        lm_val_hit1_full=float(np.mean(with_lm)),
        lm_val_hit1_full_without=float(np.mean(without)),
        lm_val_wrote_next_line=float(np.mean(in_set)),
    )
    # Kept where they add first guesses, or where they add lines to the five shown and cost no
    # first guess: judged on hit@1 alone, lines that are right as a second guess never showed.
    if share < 0 or (share == 0 and share5 <= 0):
        return None, {
            **report,
            "lm_useful": False,
            "lm_reason": "the model's lines added no exact-line hit on validation",
        }
    w = fit_weights(rows)
    return w, {
        **report,
        "lm_useful": True,
        "lm_weights": dict(zip(GEN_FEATURES, w.tolist(), strict=True)),
    }
