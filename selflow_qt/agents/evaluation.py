"""Offline evaluation: replay a held-out stream and score every predictor on the same positions.

Each predictor sees only the context before a position (baselines are fitted on the earlier part
of the stream only), so nothing leaks from the future. A hit is an exact action-key match.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from selflow_qt.agents.predictors import Context, Predictor

CONTEXT_EVENTS = 20


@dataclass
class Metrics:
    hit1: float
    hit5: float
    mrr: float
    p50_ms: float
    p95_ms: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def positions(start: int, end: int, max_positions: int | None) -> list[int]:
    """Evenly spaced positions in [start, end) (all of them when they fit)."""
    n = end - start
    if n <= 0:
        return []
    if not max_positions or n <= max_positions:
        return list(range(start, end))
    step = n / max_positions
    return sorted({start + int(i * step) for i in range(max_positions)})


def evaluate_offline(
    predictors: dict[str, Predictor],
    stream: Context,
    start: int,
    *,
    k: int = 5,
    max_positions: int | None = None,
    context_events: int = CONTEXT_EVENTS,
) -> dict[str, Metrics]:
    """hit@1, hit@k, MRR (over the top k) and latency of each predictor on ``stream[start:]``."""
    stream = list(stream)
    pos = positions(max(1, start), len(stream), max_positions)
    out: dict[str, Metrics] = {}
    for name, pred in predictors.items():
        hits1 = hits5 = 0
        rr = 0.0
        lat: list[float] = []
        for i in pos:
            ctx = stream[max(0, i - context_events) : i]
            t0 = time.perf_counter()
            cands = pred.predict(ctx, k)
            lat.append((time.perf_counter() - t0) * 1000)
            keys = [c.key for c in cands[:k]]
            target = stream[i][1]
            if target in keys:
                r = keys.index(target) + 1
                hits1 += r == 1
                hits5 += 1
                rr += 1.0 / r
        n = len(pos)
        out[name] = Metrics(
            hit1=hits1 / n if n else 0.0,
            hit5=hits5 / n if n else 0.0,
            mrr=rr / n if n else 0.0,
            p50_ms=percentile(lat, 0.5),
            p95_ms=percentile(lat, 0.95),
            n=n,
        )
    return out


def format_table(metrics: dict[str, Metrics], title: str = "") -> str:
    """A plain-text table, best MRR first."""
    rows = sorted(metrics.items(), key=lambda kv: -kv[1].mrr)
    lines = [title] if title else []
    lines.append(
        f"{'predictor':<34} {'hit@1':>6} {'hit@5':>6} {'MRR':>6} {'p50 ms':>8} {'p95 ms':>8} {'n':>5}"
    )
    for name, m in rows:
        lines.append(
            f"{name:<34} {m.hit1:>6.3f} {m.hit5:>6.3f} {m.mrr:>6.3f} {m.p50_ms:>8.2f} {m.p95_ms:>8.2f} {m.n:>5}"
        )
    return "\n".join(lines)
