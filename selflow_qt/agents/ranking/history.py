"""What a user's past says about the next action: incremental counts over a keyed stream.

``History`` learns from every event (``observe``) and answers, for any candidate action, how often
it followed the last one, two or three actions, the last exact command line, the last program, in
this working folder, at this time of day, after a gap like this one; how often and how recently it
happened at all. These are the count models' probabilities the ranker combines (McFly-style
context features); the baselines in ``predictors`` are the same counts, ranked one way each.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from selflow_qt.agents.ranking.actions import full_key
from selflow_qt.core.event import Event

DECAY_HALF_LIFE = 50.0  # events
_LN2 = math.log(2.0)


def gap_bucket(seconds: float) -> int:
    """0: under 10 s, 1: a minute, 2: ten minutes, 3: an hour, 4: longer (a new session)."""
    for i, limit in enumerate((10, 60, 600, 3600)):
        if seconds < limit:
            return i
    return 4


def hour_bucket(ev: Event) -> int:
    """The local time of day in six 4-hour bins."""
    local = datetime.fromtimestamp(ev.ts, tz=timezone.utc) + timedelta(minutes=ev.tz_offset or 0)
    return local.hour // 4


def program(key: str) -> str:
    """The program of a command key (``shell run git commit`` -> ``git``); other keys as they are."""
    parts = key.split(" ", 3)
    return parts[2] if parts[0] == "shell" and len(parts) > 2 else key


@dataclass
class Seen:
    """The latest event and exact line of one action key."""

    event: Event
    full: str
    index: int


@dataclass
class History:
    """Incremental counts over ``(event, key)`` pairs; see the module docstring."""

    n: int = 0
    freq: Counter = field(default_factory=Counter)
    succ1: dict = field(default_factory=lambda: defaultdict(Counter))
    succ2: dict = field(default_factory=lambda: defaultdict(Counter))
    succ3: dict = field(default_factory=lambda: defaultdict(Counter))
    succ_full: dict = field(default_factory=lambda: defaultdict(Counter))  # full line -> full lines
    succ_prog: dict = field(default_factory=lambda: defaultdict(Counter))  # program -> programs
    succ_gap: dict = field(default_factory=lambda: defaultdict(Counter))  # (key, gap) -> keys
    by_cwd: dict = field(default_factory=lambda: defaultdict(Counter))
    by_hour: dict = field(default_factory=lambda: defaultdict(Counter))
    decayed: dict = field(default_factory=dict)  # key -> (value, index when set)
    seen: dict = field(default_factory=dict)  # key -> Seen
    tail: list = field(default_factory=list)  # the last events as (event, key)

    def observe(self, ev: Event, key: str) -> None:
        """Learn one event that really happened (in time order)."""
        full = full_key(ev) or key
        t = self.tail
        if t:
            k1 = t[-1][1]
            self.succ1[k1][key] += 1
            self.succ_prog[program(k1)][program(key)] += 1
            self.succ_gap[(k1, gap_bucket(ev.ts - t[-1][0].ts))][key] += 1
            self.succ_full[full_key(t[-1][0]) or k1][full] += 1
            if len(t) >= 2:
                self.succ2[(t[-2][1], k1)][key] += 1
                if len(t) >= 3:
                    self.succ3[(t[-3][1], t[-2][1], k1)][key] += 1
            if t[-1][0].cwd:
                self.by_cwd[t[-1][0].cwd][key] += 1
        self.by_hour[hour_bucket(ev)][key] += 1
        self.freq[key] += 1
        self.decayed[key] = (self.decayed_value(key) + 1.0, self.n)
        self.seen[key] = Seen(ev, full, self.n)
        self.n += 1
        t.append((ev, key))
        if len(t) > 64:
            del t[:32]

    def decayed_value(self, key: str) -> float:
        """The key's frequency with each past occurrence weighted by its age (half-life 50)."""
        v = self.decayed.get(key)
        if v is None:
            return 0.0
        return v[0] * math.exp(-_LN2 * (self.n - v[1]) / DECAY_HALF_LIFE)
