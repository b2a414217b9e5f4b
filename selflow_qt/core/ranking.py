"""How predictors are ranked and their success shown: one home for the order, the interval and
the medals, so the tray, the docks and the CLI always agree."""

from __future__ import annotations

import math

MEDAL_COLOURS = ("#d4a017", "#a8a9ad", "#b06a2c")  # gold, silver, bronze (drawn by ui.medals)
MEDALS = ("\N{FIRST PLACE MEDAL}", "\N{SECOND PLACE MEDAL}", "\N{THIRD PLACE MEDAL}")


def medal(rank: int) -> str:
    """The medal for a 1-based rank, "" beyond the third."""
    return MEDALS[rank - 1] if 1 <= rank <= len(MEDALS) else ""


def earns_medal(queries: int, success_rate: float | None) -> bool:
    """Only a predictor that was asked and was right sometimes wears a medal (four baselines at
    0% used to get gold, silver and bronze)."""
    return bool(queries) and (success_rate or 0.0) > 0.0


def medal_rows(rows: list) -> int:
    """How many top rows (with ``queries`` and ``success_rate``) may wear a medal: those before
    the first that may not."""
    return next(
        (i for i, r in enumerate(rows) if not earns_medal(r.queries, r.success_rate)), len(rows)
    )


def posterior_mean(successes: int, attempts: int) -> float:
    """The Beta(1, 1) posterior mean: one lucky hit does not outrank a long record."""
    return (successes + 1) / (attempts + 2)


def rank_key(
    successes: int,
    attempts: int,
    mean_latency_ms: float = 0.0,
    offline_mrr: float | None = None,
    name: str = "",
) -> tuple:
    """Sort key, best first: tried before untried, then posterior mean success, then the
    offline MRR (before any query), then the faster, then by name so ties are stable.

    The one definition of "best": the bandit exploits the arm first in this order and every
    ranking (``agents.serving.leaderboard``) sorts by it."""
    return (
        attempts == 0,
        -posterior_mean(successes, attempts),
        -(offline_mrr or 0.0),
        mean_latency_ms,
        name,
    )


def beta_interval(successes: int, attempts: int, level: float = 0.95) -> tuple[float, float]:
    """The equal-tailed Beta(1 + s, 1 + f) credible interval of a success rate."""
    if attempts <= 0:
        return 0.0, 1.0
    a, b = successes + 1, attempts - successes + 1
    tail = (1.0 - level) / 2
    return beta_quantile(a, b, tail), beta_quantile(a, b, 1 - tail)


def beta_quantile(a: float, b: float, p: float) -> float:
    """The ``p`` quantile of Beta(a, b), by bisection on ``beta_cdf`` (to 1e-12). Pure Python:
    the tray shows these intervals, and scipy would add about 25 MB to its idle memory."""
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-12:
        mid = (lo + hi) / 2
        if beta_cdf(a, b, mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def beta_cdf(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (a continued fraction, Numerical
    Recipes' betai)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h
