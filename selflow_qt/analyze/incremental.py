"""Between cycles: assign new events to known patterns, and name an emerging group that fits none.

Every half minute (``incremental_every_s``; a check takes ~10 ms when nothing new groups) the
newest events (at most ``WINDOW_EVENTS``) are described by the same terms the cycle's features are made of (``features.event_tokens``: source
and action, folders, extension, app, command verb and arguments, working folder), IDF-weighted,
each event with the terms of its neighbours in the same session. An event belongs to the known
pattern whose c-TF-IDF term vector is nearest by cosine (at least ``ASSIGN_COSINE``, and the
pattern must know at least one of the event's own folders, app or command verb); the rest are
novel. Novel events are grouped by average-link cosine (``GROUP_COSINE``); a group with
``incremental_min_events`` events, variety (not one repeated event) and coming in runs (not
scattered one-offs) becomes a named pattern with a "New pattern" notification through
``patterns.save_patterns``, so the next full cycle continues it under the same identity.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from selflow_qt.analyze.dataset import EventTable, load_events
from selflow_qt.analyze.features import (
    FIELD_WEIGHTS,
    _signatures,
    _term_matrix,
    event_tokens,
    session_segments,
)
from selflow_qt.analyze.patterns import HOME_TERMS, PatternSummary, match_patterns, save_patterns
from selflow_qt.store.models import Pattern
from selflow_qt.store.state import kv_get, kv_set

log = logging.getLogger(__name__)

STATE_KEY = "incremental"
WINDOW_EVENTS = 3000  # newest events looked at on each check
CONTEXT = 4  # neighbours either side (same session) whose terms join an event's own
CONTEXT_WEIGHT = 0.5
# grouping novel events: an event's own terms weigh as much as all its neighbours' together, so
# two workflows interleaved in time (design work between exploit commands) stay apart
GROUP_CONTEXT, GROUP_CONTEXT_WEIGHT = 4, 0.5
ASSIGN_COSINE = 0.25  # nearest known pattern at least this close: the event belongs to it
GROUP_COSINE = 0.25  # novel events group when their average cosine is at least this
MIN_SIGNATURES = 3  # distinct events an emerging group needs (one repeated event is no workflow)
MAX_SIGNATURE_SHARE = 0.8  # ... and no single event may make up more than this share of it
MIN_RUN_SHARE = 0.5  # a workflow comes in runs: this share of its events sit near another
RUN_REACH = 2  # "near": at most this many events apart
INCREMENTAL_METHOD = "incremental"
NO_RUN = 0  # run id of a pattern found between cycles


@dataclass
class IncrementalResult:
    """One check: how the newest events were assigned, and the patterns it created."""

    checked: int  # events looked at
    new_events: int  # of them, events that arrived since the previous check
    assigned: dict[int, int] = field(default_factory=dict)  # pattern id -> events
    novel: int = 0
    emerging: list[int] = field(default_factory=list)  # sizes of groups still short of evidence
    new_patterns: list[PatternSummary] = field(default_factory=list)
    members: dict[int, list[int]] = field(default_factory=dict)  # new pattern id -> event ids
    runtime_s: float = 0.0


SPECIFIC = ("dir:", "ext:", "app:", "verb:", "sub:", "cwd:", "dest:")  # what an event is about


def window_vectors(
    table: EventTable, context: int = CONTEXT, context_weight: float = CONTEXT_WEIGHT
):
    """Each event's terms plus its session neighbours', weighted like the cycle's features.

    Returns (V, S, vocab, inverse, idf): V the unit rows of the windowed vectors, S each event's
    own specific terms (folders, extension, app, command verb; not the generic source/action,
    depth or argument counts), ``inverse`` event -> signature, ``idf`` per term.
    """
    from scipy import sparse
    from sklearn.preprocessing import normalize

    inverse, sigs = _signatures(table)
    terms, vocab = _term_matrix([event_tokens(*s) for s in sigs])
    weights = np.array([FIELD_WEIGHTS.get(v.split(":", 1)[0], 1.0) for v in vocab], np.float32)
    # IDF over events, as the cycle's features: terms every pattern shares count less
    df = np.asarray(terms.T @ np.bincount(inverse, minlength=len(sigs))).ravel()
    idf = (np.log((1 + len(table)) / (1 + df)) + 1.0).astype(np.float32)
    own = terms[inverse].multiply(weights * idf).tocsr()
    # "in ~" is where every shell starts: it tells nothing about which pattern an event is
    specific = np.array([v.startswith(SPECIFIC) and v not in HOME_TERMS for v in vocab], np.float32)
    n = len(table)
    segments = session_segments(table.ts)
    rows, cols, vals = [np.arange(n)], [np.arange(n)], [np.ones(n, np.float32)]
    for d in range(1, context + 1):
        for sign in (-1, 1):
            j = np.arange(n) + sign * d
            ok = (j >= 0) & (j < n)
            i, j = np.arange(n)[ok], j[ok]
            same = segments[i] == segments[j]
            rows.append(i[same])
            cols.append(j[same])
            vals.append(np.full(int(same.sum()), context_weight / context, np.float32))
    mix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    S = terms[inverse].multiply(specific).tocsr()
    return normalize(mix @ own), S, vocab, inverse, idf


def pattern_matrix(patterns: list[Pattern], vocab: list[str], idf: np.ndarray | None = None):
    """(patterns, terms) matrix of the known patterns' term vectors, rows of unit length."""
    col = {t: j for j, t in enumerate(vocab)}
    P = np.zeros((len(patterns), len(vocab)), np.float32)
    for r, p in enumerate(patterns):
        for t, v in ((p.metadata or {}).get("term_vector") or {}).items():
            if t in col:
                P[r, col[t]] = float(v)
    if idf is not None:
        P *= idf[None, :]
    return P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)


def assign_to_patterns(V, P: np.ndarray, S=None) -> tuple[np.ndarray, np.ndarray]:
    """Index of each event's nearest pattern (-1: none close enough) and its cosine.

    With ``S`` (each event's own specific terms), an event whose own folders, app and command
    verb the nearest pattern has never shown is novel however close its context is.
    """
    if P.shape[0] == 0:
        return np.full(V.shape[0], -1), np.zeros(V.shape[0])
    sim = np.asarray(V @ P.T)
    best = sim.argmax(axis=1)
    rows = np.arange(len(best))
    score = sim[rows, best]
    ok = score >= ASSIGN_COSINE
    if S is not None:
        overlap = np.asarray(S @ (P > 0).T.astype(np.float32))[rows, best]
        has_specific = np.asarray(S.sum(axis=1)).ravel() > 0
        ok &= (overlap > 0) | ~has_specific
    return np.where(ok, best, -1), score


def group_novel(V) -> np.ndarray:
    """Groups of the rows of ``V`` (unit rows): average-link clusters cut at ``GROUP_COSINE``."""
    from scipy.cluster.hierarchy import fcluster, linkage

    X = V.toarray() if hasattr(V, "toarray") else np.asarray(V)
    if len(X) < 2:
        return np.zeros(len(X), dtype=np.int64)
    tree = linkage(X, method="average", metric="cosine")
    return fcluster(tree, t=1.0 - GROUP_COSINE, criterion="distance").astype(np.int64) - 1


def run_share(members: np.ndarray, n: int, reach: int = RUN_REACH) -> float:
    """Share of ``members`` (indices into a stream of ``n`` events) with another member at most
    ``reach`` events away.

    A workflow's steps follow each other (other activity may slip in between); scattered
    one-offs (a calculator opened now and then) that merely resemble each other do not.
    """
    if not len(members):
        return 0.0
    inside = np.zeros(n + 2 * reach, dtype=bool)
    inside[members + reach] = True
    near = np.zeros(len(members), dtype=bool)
    for d in range(1, reach + 1):
        near |= inside[members + reach - d] | inside[members + reach + d]
    return float(near.mean())


def has_evidence(inverse: np.ndarray, min_events: int) -> bool:
    """Enough events (``min_events``), and varied: not one repeated event (signatures)."""
    if len(inverse) < max(min_events, 1):
        return False
    counts = Counter(inverse.tolist())
    return len(counts) >= MIN_SIGNATURES and max(counts.values()) <= MAX_SIGNATURE_SHARE * len(
        inverse
    )


def run_incremental(
    ctx,
    *,
    now: float | None = None,
    force: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> IncrementalResult:
    """One check on the store in ``ctx`` (see the module docstring); cheap when nothing is new."""
    t0 = time.perf_counter()
    state = kv_get(ctx.db, STATE_KEY) or {}
    table = load_events(ctx.db, last_n=WINDOW_EVENTS, with_truth=False)
    newest = int(table.ids.max()) if len(table) else 0
    new_events = int((table.ids > int(state.get("last_id", 0))).sum())
    result = IncrementalResult(checked=len(table), new_events=new_events)
    if len(table) == 0 or (new_events == 0 and not force):
        return result
    V, S, vocab, inverse, idf = window_vectors(table)
    known = list(Pattern.select().where(Pattern.pattern_type == "workflow"))
    nearest, _score = assign_to_patterns(V, pattern_matrix(known, vocab, idf), S)
    for r in nearest[nearest >= 0].tolist():
        pid = known[r].id
        result.assigned[pid] = result.assigned.get(pid, 0) + 1
    novel = np.flatnonzero(nearest < 0)
    result.novel = len(novel)
    min_events = int(ctx.settings.incremental_min_events)
    if len(novel) >= min_events and not (should_stop is not None and should_stop()):
        # grouping sees the novel events as their own stream: what the user did between known work
        Vn = window_vectors(table.take(novel), GROUP_CONTEXT, GROUP_CONTEXT_WEIGHT)[0]
        groups = group_novel(Vn)
        ready, pending = [], []
        for g in np.unique(groups):
            members = novel[groups == g]
            if (
                has_evidence(inverse[members], min_events)
                and run_share(members, len(table)) >= MIN_RUN_SHARE
            ):
                ready.append(members)
            elif len(members) >= max(5, min_events // 4):
                pending.append(len(members))
        result.emerging = sorted(pending, reverse=True)
        if ready:
            result.new_patterns, result.members = _name_groups(
                ctx, table, ready, nearest, known, now
            )
    kv_set(ctx.db, STATE_KEY, {"last_id": newest, "checked_at": time.time()})
    result.runtime_s = round(time.perf_counter() - t0, 3)
    return result


def _name_groups(
    ctx, table: EventTable, groups: list[np.ndarray], nearest: np.ndarray, known, now
) -> tuple[list[PatternSummary], dict[int, list[int]]]:
    """Profiles of the ready groups, saved as new patterns (each with a notification).

    The events assigned to known patterns take part as their own clusters, so a group's terms
    are what sets it apart from the known patterns (c-TF-IDF), not what every shell command has.
    """
    from selflow_qt.analyze.features import build_features
    from selflow_qt.analyze.semantics import describe_clusters

    labels = np.where(nearest >= 0, nearest + len(groups), -1)
    for g, members in enumerate(groups):
        labels[members] = g
    fs = build_features(table, svd_dims=8)
    described = describe_clusters(table, fs, labels, np.ones(len(table)))
    profiles = {g: described[g] for g in range(len(groups)) if g in described}
    # a group that a known pattern's terms already describe is that pattern, not a new one;
    # "describe" on what they are about: sharing only "a shell command in ~" is no match
    matches = match_patterns(list(profiles.values()), known, about=True)
    fresh = [p for label, p in profiles.items() if matches.get(label) is None]
    if not fresh:
        return [], {}
    saved = save_patterns(
        ctx.db, fresh, run_id=NO_RUN, method=INCREMENTAL_METHOD, now=now, about=True
    )
    for s in saved:
        log.info("new pattern between cycles: %s (%d events)", s.name, s.event_count)
    members = {s.pattern_id: table.ids[groups[s.cluster_label]].tolist() for s in saved if s.is_new}
    return [s for s in saved if s.is_new], members
