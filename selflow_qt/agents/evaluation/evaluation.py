"""Offline evaluation: replay a held-out stream and score every predictor on the same positions.

Each predictor sees only the context before a position (baselines are fitted on the earlier part
of the stream only), so nothing leaks from the future. Online (the default), every predictor that
learns (``observe``, or a baseline's shared counts) is then told what really happened, as in
serving. A hit is an exact action-key match; ``hit1_full`` asks for the exact redacted line.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from selflow_qt.agents.ranking.actions import candidate_full, full_key
from selflow_qt.agents.ranking.predictors import BASELINE_IDS, Context, Predictor
from selflow_qt.agents.ranking.prompt import event_line, keys_saved_on, suggest_from_candidates

CONTEXT_EVENTS = 20
KEYS_CANDIDATES = 20  # the ranked lines a predictor without ``suggest`` offers at the prompt


@dataclass
class Metrics:
    hit1: float
    hit5: float
    mrr: float
    p50_ms: float
    p95_ms: float
    n: int
    hit1_full: float = 0.0
    # On positions whose exact next line never occurred before in the stream (n_novel of them).
    hit1_novel: float = 0.0
    hit5_novel: float = 0.0
    n_novel: int = 0
    # Share of the characters of the scored command lines a user would not type by accepting
    # this predictor's ghost text (see agents.ranking.prompt.keys_saved_on).
    keys_saved: float = 0.0

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


def _suggester(pred: Predictor, ctx: Context, ranked: list):
    """What ``pred`` shows at the prompt for a typed prefix, at this moment: its own
    ``suggest``, else the first of its ``ranked`` lines (``KEYS_CANDIDATES`` of them) that
    completes the prefix."""
    if hasattr(pred, "suggest"):
        return lambda typed: pred.suggest(ctx, typed)
    return lambda typed: suggest_from_candidates(ranked, typed)


def _learners(predictors: dict[str, Predictor]) -> list:
    """Each distinct thing that learns online: an ``observe`` method, or a baseline's counts."""
    out: dict[int, object] = {}
    for pred in predictors.values():
        if hasattr(pred, "observe"):
            out[id(pred)] = pred
        elif hasattr(pred, "counts"):
            out[id(pred.counts)] = pred.counts
    return list(out.values())


def _learn(learner, item) -> None:
    if hasattr(learner, "observe"):
        learner.observe([item])
    else:
        learner.update([item])


def evaluate_offline(
    predictors: dict[str, Predictor],
    stream: Context,
    start: int,
    *,
    k: int = 5,
    max_positions: int | None = None,
    context_events: int = CONTEXT_EVENTS,
    online: bool = True,
    keys: bool = True,
) -> dict[str, Metrics]:
    """hit@1, hit@k, MRR (over the top k), hit1_full, the same on never-seen lines, keys saved
    at the prompt and latency on ``stream[start:]``."""
    stream = list(stream)
    first = max(1, start)
    pos = set(positions(first, len(stream), max_positions))
    learners = _learners(predictors) if online else []
    acc = {
        name: {"h1": 0, "h5": 0, "rr": 0.0, "full": 0, "n1": 0, "n5": 0, "saved": 0, "lat": []}
        for name in predictors
    }
    seen = {full_key(ev) or key for ev, key in stream[:first]}
    novel_n = chars = 0
    for i in range(first, len(stream) if learners else (max(pos) + 1 if pos else 0)):
        target_full = full_key(stream[i][0]) or stream[i][1]
        if i in pos:
            ctx = stream[max(0, i - context_events) : i]
            target = stream[i][1]
            novel = target_full not in seen
            novel_n += novel
            line = event_line(stream[i][0]) if keys else None
            chars += len(line) if line else 0
            for name, pred in predictors.items():
                a = acc[name]
                # One call serves the metrics (its top k) and, for a predictor without its own
                # ``suggest``, the prompt's lines: a model-scored predictor pays once, not twice.
                kk = KEYS_CANDIDATES if line and not hasattr(pred, "suggest") else k
                t0 = time.perf_counter()
                ranked = pred.predict(ctx, kk)
                a["lat"].append((time.perf_counter() - t0) * 1000)
                cands = ranked[:k]
                keys_ = [c.key for c in cands[:k]]
                fulls = [candidate_full(c) for c in cands[:k]]
                if fulls and fulls[0] == target_full:
                    a["full"] += 1
                    a["n1"] += novel
                a["n5"] += novel and target_full in fulls
                if target in keys_:
                    r = keys_.index(target) + 1
                    a["h1"] += r == 1
                    a["h5"] += 1
                    a["rr"] += 1.0 / r
                if line:
                    a["saved"] += keys_saved_on(line, _suggester(pred, ctx, ranked))
        seen.add(target_full)
        for learner in learners:
            _learn(learner, stream[i])
    n = len(pos)
    return {
        name: Metrics(
            hit1=a["h1"] / n if n else 0.0,
            hit5=a["h5"] / n if n else 0.0,
            mrr=a["rr"] / n if n else 0.0,
            p50_ms=percentile(a["lat"], 0.5),
            p95_ms=percentile(a["lat"], 0.95),
            n=n,
            hit1_full=a["full"] / n if n else 0.0,
            hit1_novel=a["n1"] / novel_n if novel_n else 0.0,
            hit5_novel=a["n5"] / novel_n if novel_n else 0.0,
            n_novel=novel_n,
            keys_saved=a["saved"] / chars if chars else 0.0,
        )
        for name, a in acc.items()
    }


def margin_over_best_baseline(metrics: dict, agent: str, measure: str = "hit1") -> float | None:
    """The agent's ``measure`` minus the best baseline's (metrics as Metrics or plain dicts).

    This is the Micro-Agents dock's "margin" column and the bench's last column; None when the
    agent or every baseline is missing.
    """

    def value(m) -> float | None:
        if m is None:
            return None
        return float(m.get(measure, 0.0) if isinstance(m, dict) else getattr(m, measure))

    own = value(metrics.get(agent))
    base = [v for name in BASELINE_IDS if (v := value(metrics.get(name))) is not None]
    if own is None or not base:
        return None
    return own - max(base)


def format_table(metrics: dict[str, Metrics], title: str = "") -> str:
    """A plain-text table, best MRR first."""
    rows = sorted(metrics.items(), key=lambda kv: -kv[1].mrr)
    lines = [title] if title else []
    lines.append(
        f"{'predictor':<34} {'hit@1':>6} {'hit@5':>6} {'MRR':>6} {'full@1':>6} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'n':>5}"
    )
    for name, m in rows:
        lines.append(
            f"{name:<34} {m.hit1:>6.3f} {m.hit5:>6.3f} {m.mrr:>6.3f} {m.hit1_full:>6.3f} "
            f"{m.p50_ms:>8.2f} {m.p95_ms:>8.2f} {m.n:>5}"
        )
    return "\n".join(lines)
