"""The candidate next actions at one moment, each with the features a ranker scores it by.

Candidates come from every count model (markov-1/2/3 successors, the last exact line's
successors, frequency, recency, this working folder) and from edits of recent commands, so a
line never seen verbatim can be proposed. Each gets one row of ``FEATURES``; probabilities are
per model, so scores are comparable across candidates of any length.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from selflow_qt.agents.actions import MAX_TARGET_CHARS, action_key, command_shape, full_key
from selflow_qt.agents.edits import EditModel
from selflow_qt.agents.history import History, gap_bucket, hour_bucket, program
from selflow_qt.core.event import Event

FEATURES = (
    "p_markov1",
    "p_markov2",
    "p_markov3",
    "p_after_line",
    "p_program",
    "p_after_gap",
    "p_cwd",
    "p_hour",
    "log_n_markov1",
    "log_n_markov2",
    "log_n_markov3",
    "log_freq",
    "decayed_freq",
    "recent_rank",
    "log_since",
    "unseen",
    "is_last",
    "top_markov2",
    "top_markov1",
    "edit",
    "log_edit_n",
    "swap",
    "similar_to_last",
)
PER_MODEL = 8
RECENT = 10


@dataclass
class CandidateSet:
    """Candidates at one position: keys, their exact lines, a display event, and features."""

    keys: list[str]
    fulls: list[str]
    examples: list[Event | None]
    X: np.ndarray  # (len(keys), len(FEATURES))


def _p(counter: Counter | None, key: str) -> tuple[float, int]:
    if not counter:
        return 0.0, 0
    c = counter.get(key, 0)
    return c / max(1, sum(counter.values())), c


def _similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    ta, tb = set(a.split()), set(b.split())
    return len(ta & tb) / max(1, len(ta | tb))


def candidate_set(
    hist: History, context, edits: EditModel | None = None, extra: list[str] = ()
) -> CandidateSet:
    """Candidates for the action after ``context`` (oldest first), with their features.

    ``extra``: keys that must be candidates too (the baselines' first guesses).
    """
    ctx = list(context)
    k1 = ctx[-1][1] if ctx else None
    k2 = ctx[-2][1] if len(ctx) >= 2 else None
    k3 = ctx[-3][1] if len(ctx) >= 3 else None
    last_ev = ctx[-1][0] if ctx else None
    s1 = hist.succ1.get(k1) if k1 else None
    s2 = hist.succ2.get((k2, k1)) if k2 else None
    s3 = hist.succ3.get((k3, k2, k1)) if k3 else None
    last_full = full_key(last_ev) if last_ev is not None else None
    s_full = hist.succ_full.get(last_full) if last_full else None
    s_prog = hist.succ_prog.get(program(k1)) if k1 else None
    gap = gap_bucket(ctx[-1][0].ts - ctx[-2][0].ts) if len(ctx) >= 2 else 4
    s_gap = hist.succ_gap.get((k1, gap)) if k1 else None
    s_cwd = hist.by_cwd.get(last_ev.cwd) if last_ev is not None and last_ev.cwd else None
    s_hour = hist.by_hour.get(hour_bucket(last_ev)) if last_ev is not None else None

    keys: list[str] = []
    fulls: dict[str, str] = {}
    examples: dict[str, Event | None] = {}
    edit_info: dict[str, tuple[float, str]] = {}

    def add(key: str, full: str | None = None, ex: Event | None = None) -> None:
        if key not in fulls:
            keys.append(key)
            seen = hist.seen.get(key)
            fulls[key] = full or (seen.full if seen else key)
            examples[key] = ex or (seen.event if seen else None)

    # The exact line that followed the last line wins the display of its key.
    if s_full:
        for full, _ in s_full.most_common(PER_MODEL):
            seen_key = _key_of_full(full)
            if seen_key is not None:
                add(seen_key, full)
    for key in extra:
        add(key)
    for counter in (s3, s2, s1, s_cwd):
        if counter:
            for key, _ in counter.most_common(PER_MODEL):
                add(key)
    recent_rank: dict[str, int] = {}
    for _, key in reversed(ctx):
        if key not in recent_rank:
            recent_rank[key] = len(recent_rank) + 1
            if len(recent_rank) <= RECENT:
                add(key)
    for key, _ in hist.freq.most_common(PER_MODEL):
        add(key)
    if edits is not None:
        cmds = [ev.cmd for ev, _ in ctx[-8:] if ev.source == "shell" and ev.cmd]
        for line, weight, kind in edits.propose(cmds):
            ev = Event(
                ts=last_ev.ts if last_ev else 0.0, source="shell", action="command", cmd=line
            )
            key = action_key(ev)
            if key is not None and key not in fulls:
                add(key, f"shell run {line}", ev)
                edit_info[key] = (weight, kind)

    after_line: Counter = Counter()
    for full, c in (s_full or {}).items():
        after_line[_key_of_full(full)] += c
    n_after_line = max(1, sum(after_line.values()))
    m2_top = _top_key(s2) or _top_key(s1)
    m1_top = _top_key(s1)
    X = np.zeros((len(keys), len(FEATURES)), dtype=np.float64)
    log_n = math.log1p(hist.n)
    prog1 = program(k1) if k1 else None
    for i, key in enumerate(keys):
        p1, c1 = _p(s1, key)
        p2, c2 = _p(s2, key)
        p3, c3 = _p(s3, key)
        pf = after_line.get(key, 0) / n_after_line
        pp, _ = _p(s_prog, program(key)) if prog1 else (0.0, 0)
        pg, _ = _p(s_gap, key)
        pc, _ = _p(s_cwd, key)
        ph, _ = _p(s_hour, key)
        seen = hist.seen.get(key)
        since = math.log1p(hist.n - seen.index) if seen else log_n + 1.0
        w, kind = edit_info.get(key, (0.0, ""))
        X[i] = (
            p1,
            p2,
            p3,
            pf,
            pp,
            pg,
            pc,
            ph,
            math.log1p(c1),
            math.log1p(c2),
            math.log1p(c3),
            math.log1p(hist.freq.get(key, 0)) - log_n,
            math.log1p(hist.decayed_value(key)),
            1.0 / recent_rank[key] if key in recent_rank else 0.0,
            since,
            0.0 if seen else 1.0,
            1.0 if key == k1 else 0.0,
            1.0 if key == m2_top else 0.0,
            1.0 if key == m1_top else 0.0,
            1.0 if kind == "edit" else 0.0,
            math.log1p(w),
            1.0 if kind == "swap" else 0.0,
            _similarity(fulls[key], last_full or ""),
        )
    return CandidateSet(keys, [fulls[k] for k in keys], [examples[k] for k in keys], X)


def _top_key(counter: Counter | None) -> str | None:
    if not counter:
        return None
    return counter.most_common(1)[0][0]


def _key_of_full(full: str) -> str | None:
    """The action key of an exact line (``shell run <line>`` keys are re-shaped; others equal)."""
    if full.startswith("shell run "):
        return f"shell run {command_shape(full[10:])[-MAX_TARGET_CHARS:]}"
    return full
