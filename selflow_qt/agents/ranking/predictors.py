"""Baseline next-action predictors behind one interface: ``predict(context, k) -> [Candidate]``.

A context is the recent stream as ``(event, action_key)`` pairs, oldest first (see
``actions.keyed``). Baselines learn counts with ``update`` (incremental) and never see the future.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Protocol

from selflow_qt.agents.ranking.actions import Candidate
from selflow_qt.core.event import Event

Context = Sequence[tuple[Event, str]]
BASELINE_IDS = ("most-frequent", "most-recent", "markov-1", "markov-2")


class Predictor(Protocol):
    name: str

    def predict(self, context: Context, k: int) -> list[Candidate]: ...


class _Counts:
    """Shared statistics: key frequencies, order-1/2 successor counts, latest example per key."""

    def __init__(self) -> None:
        self.freq: Counter[str] = Counter()
        self.succ1: dict[str, Counter[str]] = defaultdict(Counter)
        self.succ2: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.last_seen: dict[str, int] = {}
        self.example: dict[str, Event] = {}
        self.tail: list[tuple[Event, str]] = []
        self.n = 0

    def update(self, stream: Context) -> None:
        for ev, key in stream:
            t = self.tail
            if t:
                self.succ1[t[-1][1]][key] += 1
                if len(t) >= 2:
                    self.succ2[(t[-2][1], t[-1][1])][key] += 1
            self.freq[key] += 1
            self.last_seen[key] = self.n
            self.example[key] = ev
            self.n += 1
            t.append((ev, key))
            if len(t) > 64:
                del t[:32]

    def ranked(self, counter: Counter[str]) -> list[tuple[str, float]]:
        """Keys by count, ties broken by recency (the last successor wins)."""
        total = sum(counter.values()) or 1
        items = sorted(counter.items(), key=lambda kv: (-kv[1], -self.last_seen.get(kv[0], -1)))
        return [(key, c / total) for key, c in items]


class BaselinePredictor:
    """Common plumbing: fit/update on a keyed stream, fill from frequency, build candidates."""

    name = "baseline"

    def __init__(self, counts: _Counts | None = None) -> None:
        self.counts = counts or _Counts()

    def fit(self, stream: Context) -> BaselinePredictor:
        self.counts = _Counts()
        self.counts.update(stream)
        return self

    def update(self, stream: Context) -> None:
        self.counts.update(stream)

    def _ranked(self, context: Context) -> list[tuple[str, float]]:
        raise NotImplementedError

    def predict(self, context: Context, k: int) -> list[Candidate]:
        seen: set[str] = set()
        out: list[Candidate] = []
        examples = {key: ev for ev, key in context}
        # Lower tiers (backoff) score below every candidate of a higher tier.
        tiers = [
            self._ranked(context),
            [(key, p) for key, p in self.counts.ranked(self.counts.freq)],
        ]
        for tier, ranked in enumerate(tiers):
            for key, p in ranked:
                if key in seen:
                    continue
                seen.add(key)
                ex = examples.get(key) or self.counts.example.get(key)
                out.append(Candidate(key=key, score=float(p) - tier, example=ex))
                if len(out) >= k:
                    return out
        return out


class MostFrequent(BaselinePredictor):
    """The actions the user does most often, whatever came before."""

    name = "most-frequent"

    def _ranked(self, context: Context) -> list[tuple[str, float]]:
        return self.counts.ranked(self.counts.freq)


class MostRecent(BaselinePredictor):
    """The distinct actions of the recent context, the latest first."""

    name = "most-recent"

    def _ranked(self, context: Context) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        seen: set[str] = set()
        for _, key in reversed(list(context) or self.counts.tail):
            if key not in seen:
                seen.add(key)
                out.append((key, 1.0 / (len(out) + 1)))
        return out


class Markov1(BaselinePredictor):
    """What most often followed the last action (ties: the latest successor)."""

    name = "markov-1"

    def _ranked(self, context: Context) -> list[tuple[str, float]]:
        if not context:
            return []
        return self.counts.ranked(self.counts.succ1.get(context[-1][1], Counter()))


class Markov2(BaselinePredictor):
    """What most often followed the last two actions, backing off to order 1."""

    name = "markov-2"

    def _ranked(self, context: Context) -> list[tuple[str, float]]:
        if not context:
            return []
        out = []
        if len(context) >= 2:
            pair = (context[-2][1], context[-1][1])
            out = [
                (key, 1.0 + p)
                for key, p in self.counts.ranked(self.counts.succ2.get(pair, Counter()))
            ]
        seen = {key for key, _ in out}
        for key, p in self.counts.ranked(self.counts.succ1.get(context[-1][1], Counter())):
            if key not in seen:
                out.append((key, p))
        return out


def make_baselines(stream: Context = ()) -> dict[str, BaselinePredictor]:
    """The four baselines sharing one set of counts, fitted on ``stream``."""
    counts = _Counts()
    counts.update(stream)
    preds: list[BaselinePredictor] = [
        MostFrequent(counts),
        MostRecent(counts),
        Markov1(counts),
        Markov2(counts),
    ]
    return {p.name: p for p in preds}
