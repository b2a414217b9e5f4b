"""The candidate next actions at one moment, each with the features a ranker scores it by.

Candidates come from every count model (markov-1/2/3 successors, the last exact line's
successors, frequency, recency, this working folder), from edits of recent commands, and from
lines the language model wrote (``generated``), so a line never seen verbatim can be proposed.
Each gets one row of ``FEATURES``; probabilities are per model, so scores are comparable across
candidates of any length. The model's lines also get a row of ``GEN_FEATURES`` (zeros for every
other candidate); a line whose key is already a candidate with the same exact line marks that
candidate, any other line is a candidate of its own (``gen_only``), even when its key is taken.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from selflow_qt.agents.ranking.actions import MAX_TARGET_CHARS, action_key, command_shape, full_key
from selflow_qt.agents.ranking.edits import EditModel
from selflow_qt.agents.ranking.history import History, gap_bucket, hour_bucket, program
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
# What the language model said about a candidate (see lm_writer and lm_trust).
GEN_FEATURES = (
    "gen",  # the model wrote this line
    "gen_only",  # only the model proposed it (no count model or edit did)
    "gen_logp",  # its mean log-probability per token (0 when not written)
    "gen_top",  # 1 / (1 + its rank in the beam)
    "gen_seen",  # the model's line was typed before, exactly
    "gen_copied",  # share of its words copied from the context
    "gen_total",  # its log-probability as a whole line (the sum over its tokens; 0 when not written)
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
    G: np.ndarray | None = None  # (len(keys), len(GEN_FEATURES)); None: no generated lines

    def gen_features(self) -> np.ndarray:
        if self.G is None:
            return np.zeros((len(self.keys), len(GEN_FEATURES)))
        return self.G


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


@dataclass
class _Counts:
    """What the counting models know after one context: its last actions and their successors."""

    ctx: list
    k1: str | None
    last_ev: Event | None
    last_full: str | None
    s1: Counter | None
    s2: Counter | None
    s3: Counter | None
    s_full: Counter | None
    s_prog: Counter | None
    s_gap: Counter | None
    s_cwd: Counter | None
    s_hour: Counter | None


def _counts(hist: History, context) -> _Counts:
    ctx = list(context)
    k1 = ctx[-1][1] if ctx else None
    k2 = ctx[-2][1] if len(ctx) >= 2 else None
    k3 = ctx[-3][1] if len(ctx) >= 3 else None
    last_ev = ctx[-1][0] if ctx else None
    last_full = full_key(last_ev) if last_ev is not None else None
    gap = gap_bucket(ctx[-1][0].ts - ctx[-2][0].ts) if len(ctx) >= 2 else 4
    return _Counts(
        ctx=ctx,
        k1=k1,
        last_ev=last_ev,
        last_full=last_full,
        s1=hist.succ1.get(k1) if k1 else None,
        s2=hist.succ2.get((k2, k1)) if k2 else None,
        s3=hist.succ3.get((k3, k2, k1)) if k3 else None,
        s_full=hist.succ_full.get(last_full) if last_full else None,
        s_prog=hist.succ_prog.get(program(k1)) if k1 else None,
        s_gap=hist.succ_gap.get((k1, gap)) if k1 else None,
        s_cwd=hist.by_cwd.get(last_ev.cwd) if last_ev is not None and last_ev.cwd else None,
        s_hour=hist.by_hour.get(hour_bucket(last_ev)) if last_ev is not None else None,
    )


@dataclass
class _Gathered:
    """The candidate keys in order, each with its exact line, an example event, its edit
    weight and kind (for edits of recent commands) and its rank among the recent actions."""

    keys: list[str]
    fulls: dict[str, str]
    examples: dict[str, Event | None]
    edit_info: dict[str, tuple[float, str]]
    recent_rank: dict[str, int]


def _gather(hist: History, c: _Counts, edits: EditModel | None, extra) -> _Gathered:
    g = _Gathered([], {}, {}, {}, {})

    def add(key: str, full: str | None = None, ex: Event | None = None) -> None:
        if key not in g.fulls:
            g.keys.append(key)
            seen = hist.seen.get(key)
            g.fulls[key] = full or (seen.full if seen else key)
            g.examples[key] = ex or (seen.event if seen else None)

    # The exact line that followed the last line wins the display of its key.
    if c.s_full:
        for full, _ in c.s_full.most_common(PER_MODEL):
            seen_key = key_of_full(full)
            if seen_key is not None:
                add(seen_key, full)
    for key in extra:
        add(key)
    for counter in (c.s3, c.s2, c.s1, c.s_cwd):
        if counter:
            for key, _ in counter.most_common(PER_MODEL):
                add(key)
    for _, key in reversed(c.ctx):
        if key not in g.recent_rank:
            g.recent_rank[key] = len(g.recent_rank) + 1
            if len(g.recent_rank) <= RECENT:
                add(key)
    for key, _ in hist.freq.most_common(PER_MODEL):
        add(key)
    if edits is not None:
        last_ev = c.last_ev
        cmds = [ev.cmd for ev, _ in c.ctx[-8:] if ev.source == "shell" and ev.cmd]
        for line, weight, kind in edits.propose(cmds):
            ev = Event(
                ts=last_ev.ts if last_ev else 0.0, source="shell", action="command", cmd=line
            )
            key = action_key(ev)
            if key is not None and key not in g.fulls:
                add(key, f"shell run {line}", ev)
                g.edit_info[key] = (weight, kind)
    return g


def _feature_rows(hist: History, c: _Counts, g: _Gathered) -> np.ndarray:
    """One row of ``FEATURES`` per gathered candidate."""
    after_line: Counter = Counter()
    for full, n in (c.s_full or {}).items():
        after_line[key_of_full(full)] += n
    n_after_line = max(1, sum(after_line.values()))
    m2_top = _top_key(c.s2) or _top_key(c.s1)
    m1_top = _top_key(c.s1)
    X = np.zeros((len(g.keys), len(FEATURES)), dtype=np.float64)
    log_n = math.log1p(hist.n)
    prog1 = program(c.k1) if c.k1 else None
    for i, key in enumerate(g.keys):
        p1, c1 = _p(c.s1, key)
        p2, c2 = _p(c.s2, key)
        p3, c3 = _p(c.s3, key)
        pf = after_line.get(key, 0) / n_after_line
        pp, _ = _p(c.s_prog, program(key)) if prog1 else (0.0, 0)
        pg, _ = _p(c.s_gap, key)
        pc, _ = _p(c.s_cwd, key)
        ph, _ = _p(c.s_hour, key)
        seen = hist.seen.get(key)
        since = math.log1p(hist.n - seen.index) if seen else log_n + 1.0
        w, kind = g.edit_info.get(key, (0.0, ""))
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
            1.0 / g.recent_rank[key] if key in g.recent_rank else 0.0,
            since,
            0.0 if seen else 1.0,
            1.0 if key == c.k1 else 0.0,
            1.0 if key == m2_top else 0.0,
            1.0 if key == m1_top else 0.0,
            1.0 if kind == "edit" else 0.0,
            math.log1p(w),
            1.0 if kind == "swap" else 0.0,
            _similarity(g.fulls[key], c.last_full or ""),
        )
    return X


def candidate_set(
    hist: History,
    context,
    edits: EditModel | None = None,
    extra: list[str] = (),
    generated: list = (),
) -> CandidateSet:
    """Candidates for the action after ``context`` (oldest first), with their features.

    ``extra``: keys that must be candidates too (the baselines' first guesses); ``generated``:
    the language model's lines (``lm_writer.GeneratedLine``), appended with ``GEN_FEATURES``.
    """
    c = _counts(hist, context)
    g = _gather(hist, c, edits, extra)
    X = _feature_rows(hist, c, g)
    cs = CandidateSet(g.keys, [g.fulls[k] for k in g.keys], [g.examples[k] for k in g.keys], X)
    if generated:
        add_generated(cs, hist, generated, c.ctx)
    return cs


def add_generated(cs: CandidateSet, hist: History, lines, context) -> None:
    """Mark the counted candidates the model also wrote (same exact line); append the lines
    only it wrote, each with its ``GEN_FEATURES`` row."""
    ctx = list(context)
    last_ev = ctx[-1][0] if ctx else None
    last_full = full_key(last_ev) if last_ev is not None else None
    G = np.zeros((len(cs.keys), len(GEN_FEATURES)))
    row_of_full = {full: i for i, full in enumerate(cs.fulls)}
    row_of_key = {key: i for i, key in enumerate(cs.keys)}
    new_rows, new_g = [], []
    for line in lines:
        seen = line.full == last_full or line.full in hist.succ_full
        g = (1.0, 0.0, line.logp, 1.0 / (1 + line.rank), float(seen), line.copied, line.total)
        i = row_of_full.get(line.full)
        if i is not None:
            G[i] = g
            continue
        j = row_of_key.get(line.key)
        # A line whose key is taken by another exact line shares that key's counts; a new key
        # gets the features of a never-seen action.
        x = cs.X[j] if j is not None else _unseen_row(hist, line, last_full)
        ev = Event(
            ts=last_ev.ts if last_ev else 0.0,
            source="shell",
            action="command",
            cmd=line.full[10:] if line.full.startswith("shell run ") else None,
            cwd=last_ev.cwd if last_ev else None,
        )
        cs.keys.append(line.key)
        cs.fulls.append(line.full)
        cs.examples.append(
            ev if ev.cmd else (hist.seen[line.key].event if line.key in hist.seen else None)
        )
        row_of_full[line.full] = len(cs.keys) - 1
        new_rows.append(x)
        new_g.append((g[0], 1.0, *g[2:]))
    if new_rows:
        cs.X = np.vstack([cs.X, np.asarray(new_rows)])
        G = np.vstack([G, np.asarray(new_g)])
    cs.G = G


def _unseen_row(hist: History, line, last_full: str | None) -> np.ndarray:
    x = np.zeros(len(FEATURES))
    x[FEATURES.index("log_freq")] = -math.log1p(hist.n)
    x[FEATURES.index("log_since")] = math.log1p(hist.n) + 1.0
    x[FEATURES.index("unseen")] = 1.0
    x[FEATURES.index("similar_to_last")] = _similarity(line.full, last_full or "")
    return x


def _top_key(counter: Counter | None) -> str | None:
    if not counter:
        return None
    return counter.most_common(1)[0][0]


def key_of_full(full: str) -> str | None:
    """The action key of an exact line (``shell run <line>`` keys are re-shaped; others equal)."""
    if full.startswith("shell run "):
        return f"shell run {command_shape(full[10:])[-MAX_TARGET_CHARS:]}"
    return full
