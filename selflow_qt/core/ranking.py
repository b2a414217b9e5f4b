"""How predictors are ranked and their success shown: one home for the order, the interval and
the medals, so the tray, the docks and the CLI always agree."""

from __future__ import annotations

MEDAL_COLOURS = ("#d4a017", "#a8a9ad", "#b06a2c")  # gold, silver, bronze (drawn by ui.medals)
MEDALS = ("\N{FIRST PLACE MEDAL}", "\N{SECOND PLACE MEDAL}", "\N{THIRD PLACE MEDAL}")


def medal(rank: int) -> str:
    """The medal for a 1-based rank, "" beyond the third."""
    return MEDALS[rank - 1] if 1 <= rank <= len(MEDALS) else ""


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
    offline MRR (before any query), then the faster, then by name so ties are stable."""
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
    from scipy.special import betaincinv  # the Beta quantile; scipy.stats costs 4x the import

    a, b = successes + 1, attempts - successes + 1
    tail = (1.0 - level) / 2
    return float(betaincinv(a, b, tail)), float(betaincinv(a, b, 1 - tail))
