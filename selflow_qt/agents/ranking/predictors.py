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


TOP_KEPT = 128  # the most frequent keys kept in order as they are counted (see _Counts.top)


class _Counts:
    """Shared statistics: key frequencies, order-1/2 successor counts, latest example per key.

    The most frequent keys are kept in order as they are counted (``top``, at most ``TOP_KEPT``):
    asking for the frequency ranking sorted every distinct key each time, so learning one event
    cost more the more distinct lines a person had typed (52 ms an event at 6,000 distinct lines,
    and a stream of new lines at 200 a second stalled the serving path)."""

    def __init__(self) -> None:
        self.freq: Counter[str] = Counter()
        self.succ1: dict[str, Counter[str]] = defaultdict(Counter)
        self.succ2: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.last_seen: dict[str, int] = {}
        self.example: dict[str, Event] = {}
        self.tail: list[tuple[Event, str]] = []
        self.n = 0
        self.top: list[str] = []  # by count, then the latest: exactly ranked(freq)'s first keys
        self._in_top: set[str] = set()

    def _order(self, key: str) -> tuple[int, int]:
        return (-self.freq[key], -self.last_seen[key])

    def _count_in_top(self, key: str) -> None:
        """Keep ``top`` exact after ``key`` was counted: counts only grow, and the counted key
        is the latest, so a key outside it can only enter when it is the one counted."""
        top = self.top
        if key not in self._in_top:
            if len(top) >= TOP_KEPT:
                if self._order(key) >= self._order(top[-1]):
                    return
                self._in_top.discard(top.pop())
            top.append(key)
            self._in_top.add(key)
        top.sort(key=self._order)

    def frequent(self, m: int) -> list[tuple[str, float]]:
        """The ``m`` most frequent keys with their share, as ``ranked(freq)[:m]``."""
        if m > len(self.top) and len(self.freq) > len(self.top):
            return self.ranked(self.freq)[:m]
        total = self.n or 1
        return [(key, self.freq[key] / total) for key in self.top[:m]]

    def update(self, stream: Context) -> None:
        for ev, key in stream:
            t = self.tail
            if t:
                self.succ1[t[-1][1]][key] += 1
                if len(t) >= 2:
                    self.succ2[(t[-2][1], t[-1][1])][key] += 1
            self.freq[key] += 1
            self.last_seen[key] = self.n
            self._count_in_top(key)
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
        # Lower tiers (backoff) score below every candidate of a higher tier; the frequency
        # tier is read only when the first falls short (its first k + |seen| keys suffice).
        tiers = (
            lambda: self._ranked(context),
            lambda: self.counts.frequent(k + len(seen)),
        )
        for tier, ranking in enumerate(tiers):
            for key, p in ranking():
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

    def predict(self, context: Context, k: int) -> list[Candidate]:
        """The k most frequent keys (``_ranked``'s first k, without sorting every key)."""
        examples = {key: ev for ev, key in context}
        return [
            Candidate(
                key=key, score=float(p), example=examples.get(key) or self.counts.example.get(key)
            )
            for key, p in self.counts.frequent(k)
        ]


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
