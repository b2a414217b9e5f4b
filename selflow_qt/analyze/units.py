"""Workflow units: runs of related events (a session: edit, test, commit), not single events.

Units are cut in *arrival order* (event id: for live capture the same as time order; for an
import, the source's own order, so two recordings that overlap in time stay apart):

1. a new piece starts after a pause longer than ``GAP_FACTOR`` times the median gap (clamped
   to ``MIN_GAP_S``..``MAX_GAP_S``), or where time jumps backwards (another recording); where
   the times are evenly spaced (an untimed history's invented times) a pause says nothing, and
   a piece starts where the content changes instead (``analyze.untimed``: folder and host
   changes, other tools and arguments);
2. neighbouring pieces are joined again (a context that goes on) when the pause between them
   is at most ``MAX_GAP_S`` and their term vectors agree (cosine >= ``JOIN_COSINE``); a change
   of context (other folders, commands, apps) keeps them apart. Two pieces of untimed history
   were cut where their content changed, so only a near-equal content joins them again
   (``UNTIMED_JOIN_COSINE``): everyday commands they share (``ls``, ``cd``, ``cat``) would
   otherwise join different routines into one unit.

Each unit is described by its events' terms plus their sequence (command bigrams) and argument
words, weighted by TF-IDF over units and reduced with a truncated SVD (``UNIT_DIMS``
directions; ``HISTORY_DIMS`` for a long untimed history, whose units no session tells apart:
there a small routine's few telling tools lie past the first 16 directions, and pieces that
share only everyday commands are less alike, so fewer are joined), and by its context: the
session around it (no pause over ``MAX_GAP_S``) or, for untimed history, which has no sessions,
the units just before and after it (``neighbour_context``). The clusterers and the consensus
cluster these unit vectors; every event inherits its unit's label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from selflow_qt.analyze.untimed import content_cuts, even_gaps

GAP_FACTOR = 10.0
MIN_GAP_S = 1.0
MAX_GAP_S = 900.0
JOIN_COSINE = 0.3
UNTIMED_JOIN_COSINE = 0.6  # two content-cut pieces of untimed history join only when near-equal
LONG_UNTIMED = 100  # events: an untimed stretch this long is a history of several sittings
NEIGHBOURS = 2  # untimed units either side that make a unit's context
NEIGHBOUR_DECAY = 0.7  # each step further away weighs this much less
NEIGHBOUR_WEIGHT = 1.25  # the context's weight beside the unit's own vector
SESSION_WEIGHT = 1.0
COHERENCE_LOW, COHERENCE_HIGH = 0.15, 0.45
UNIT_DIMS = 16
# an untimed history's units: no session tells them apart, only what they hold, and a routine's
# telling tools (the few a small routine has) sit past the first 16 directions of their terms
HISTORY_DIMS = 48
FEW_UNITS = 10
WORD_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z_][A-Za-z0-9_.\-]{2,39}")


def split_units(
    ids: np.ndarray,
    ts: np.ndarray,
    threshold: float | None = None,
    content=None,
    cmds: list[str | None] | None = None,
) -> np.ndarray:
    """Piece id of every event (same order as ``ids``/``ts``), numbered 0..k-1 in arrival order.

    A piece ends at a pause longer than ``threshold`` (default: from the median gap, see the
    module docstring) or where time jumps backwards. Evenly spaced times (``untimed.even_gaps``:
    an untimed history's invented ones) tell no pause: there, given each event's terms
    (``content``, sparse rows in table order) and commands, a piece ends where the content
    changes (``untimed.content_cuts``).
    """
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    t = ts[order]
    gaps = np.diff(t, prepend=t[0])
    even = even_gaps(t)
    if threshold is None:
        positive = gaps[(gaps > 0) & ~even]
        median = float(np.median(positive)) if len(positive) else 0.0
        threshold = min(max(GAP_FACTOR * median, MIN_GAP_S), MAX_GAP_S)
    new = ((gaps > threshold) & ~even) | (gaps < 0)
    if content is not None and even.any():
        in_order = [cmds[i] for i in order] if cmds is not None else [None] * n
        new |= content_cuts(content[order], in_order, even)
    new[0] = False
    in_order = np.cumsum(new)
    out = np.empty(n, dtype=np.int64)
    out[order] = in_order
    return out


def _verb(tokens: list[str]) -> str:
    verbs = [t for t in tokens if t.startswith(("verb:", "sub:"))]
    if verbs:
        return verbs[-1].split(":", 1)[1]
    return next((t.split(":", 1)[1] for t in tokens if t.startswith("act:")), "")


@dataclass
class SignatureTerms:
    """Per distinct event signature: its terms (event terms + argument words) and its verb."""

    matrix: object  # scipy.sparse.csr_matrix (signatures, terms), binary
    verb: np.ndarray  # (signatures,) int: index into ``verbs``
    verbs: list[str]

    @classmethod
    def build(
        cls, inverse: np.ndarray, signature_tokens: list[list[str]], cmds: list[str | None]
    ) -> SignatureTerms:
        from scipy import sparse

        _, first = np.unique(inverse, return_index=True)
        docs = []
        for s, toks in enumerate(signature_tokens):
            cmd = cmds[int(first[s])] if s < len(first) else None
            words = [f"word:{w.lower()}" for w in WORD_RE.findall(cmd)[1:6]] if cmd else []
            docs.append(sorted(set(toks) | set(words)))
        vocab = sorted({t for d in docs for t in d})
        col = {t: j for j, t in enumerate(vocab)}
        indptr, indices = [0], []
        for d in docs:
            indices.extend(col[t] for t in d)
            indptr.append(len(indices))
        m = sparse.csr_matrix(
            (np.ones(len(indices), np.float32), indices, indptr),
            shape=(len(docs), max(len(vocab), 1)),
        )
        names = [_verb(t) for t in signature_tokens]
        verbs = sorted(set(names))
        code = {v: i for i, v in enumerate(verbs)}
        return cls(m, np.array([code[v] for v in names], dtype=np.int64), verbs)


def unit_term_counts(units: np.ndarray, ids: np.ndarray, inverse: np.ndarray, sig: SignatureTerms):
    """(units, terms + verb bigrams) sparse counts: what each unit did, and in which order."""
    from scipy import sparse

    k = int(units.max()) + 1 if len(units) else 0
    n_sig = sig.matrix.shape[0]
    per_sig = sparse.csr_matrix(
        (np.ones(len(units), np.float32), (units, inverse)), shape=(k, n_sig)
    )
    terms = per_sig @ sig.matrix
    order = np.argsort(ids, kind="stable")
    u, v = units[order], sig.verb[inverse[order]]
    same = u[1:] == u[:-1]
    nv = max(len(sig.verbs), 1)
    pairs = v[:-1][same] * nv + v[1:][same]
    used, pair_col = np.unique(pairs, return_inverse=True)
    bigrams = sparse.csr_matrix(
        (np.ones(len(pairs), np.float32), (u[1:][same], pair_col)), shape=(k, max(len(used), 1))
    )
    return sparse.hstack([terms, bigrams]).tocsr()


def unit_vectors(counts, *, seed: int = 0, dims: int | None = None) -> np.ndarray:
    """(units, dims) float32: sublinear TF-IDF over units, truncated SVD, unit length."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    dims = UNIT_DIMS if dims is None else dims
    m = counts.tocsr().copy()
    m.data = 1.0 + np.log(np.maximum(m.data, 1.0))
    df = np.bincount(m.indices, minlength=m.shape[1])
    idf = np.log((1 + m.shape[0]) / (1 + df)) + 1.0
    if m.shape[0] > FEW_UNITS:  # a term of one unit alone tells nothing about which go together
        idf = np.where(df > 1, idf, 0.0)
    w = normalize(m.multiply(idf.astype(np.float32)).tocsr())
    k = int(min(dims, w.shape[1] - 1, w.shape[0] - 1))
    if k < 2:  # too few units for an SVD: their TF-IDF vectors as they are
        return np.asarray(w.todense(), dtype=np.float32)
    vecs = TruncatedSVD(n_components=k, random_state=seed, n_iter=5).fit_transform(w)
    return normalize(vecs).astype(np.float32)


def join_pieces(
    pieces: np.ndarray,
    ids: np.ndarray,
    ts: np.ndarray,
    vectors: np.ndarray,
    untimed: np.ndarray | None = None,
) -> np.ndarray:
    """Join consecutive pieces (arrival order) that continue one context; returns unit ids.
    ``untimed``: (pieces,) bool, the piece's times were invented (see the module docstring)."""
    k = int(pieces.max()) + 1 if len(pieces) else 0
    if k == 0:
        return pieces.copy()
    first = np.full(k, np.inf)
    last = np.full(k, -np.inf)
    np.minimum.at(first, pieces, ts)
    np.maximum.at(last, pieces, ts)
    order = np.argsort(ids, kind="stable")
    seq = list(dict.fromkeys(pieces[order].tolist()))
    unit = np.zeros(k, dtype=np.int64)
    acc = vectors[seq[0]].astype(np.float64).copy()
    u = 0
    for a, b in zip(seq, seq[1:], strict=False):
        gap = first[b] - last[a]
        v = vectors[b].astype(np.float64)
        cos = float(acc @ v) / (np.linalg.norm(acc) * np.linalg.norm(v) + 1e-12)
        need = (
            UNTIMED_JOIN_COSINE
            if untimed is not None and untimed[a] and untimed[b]
            else JOIN_COSINE
        )
        if 0.0 <= gap <= MAX_GAP_S and cos >= need:
            acc += v
        else:
            u += 1
            acc = v.copy()
        unit[b] = u
    return unit[pieces]


@dataclass
class WorkflowUnits:
    """Each event's unit and one feature row per unit."""

    of_event: np.ndarray  # (n,) int64 unit of each event (table order)
    vectors: np.ndarray  # (units, d) float32
    sizes: np.ndarray  # (units,) events per unit
    untimed: np.ndarray | None = None  # (units,) bool: most of its events' times were invented

    def __len__(self) -> int:
        return len(self.vectors)

    def with_text(self, event_vectors: np.ndarray) -> WorkflowUnits:
        """The same units, each also described by the mean text vector of its events."""
        sums = np.zeros((len(self.vectors), event_vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, self.of_event, event_vectors)
        norm = np.linalg.norm(sums, axis=1, keepdims=True)
        text = (sums / np.maximum(norm, 1e-12)).astype(np.float32)
        return WorkflowUnits(
            self.of_event, np.hstack([self.vectors, text]), self.sizes, self.untimed
        )

    def mostly_untimed(self) -> bool:
        """Most units come from untimed history: cut by content, not by pauses."""
        return self.untimed is not None and bool(np.mean(self.untimed) > 0.5)


def session_coherence(vectors: np.ndarray, session_of_unit: np.ndarray) -> np.ndarray:
    """Per unit, how much its session is one workflow, in [0, 1].

    The length of the mean of a session's unit vectors (1 when they all point one way) above
    the length for all units together (what a random mix of the data's units would give).
    A session that mixes the data's workflows scores ~0, one that keeps to one ~1.
    """
    k = int(session_of_unit.max()) + 1 if len(session_of_unit) else 0
    sums = np.zeros((k, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, session_of_unit, vectors)
    counts = np.bincount(session_of_unit, minlength=k)
    r = np.linalg.norm(sums, axis=1) / np.maximum(counts, 1)
    r0 = float(np.linalg.norm(vectors.mean(axis=0))) if len(vectors) else 0.0
    gain = np.clip((r - r0) / max(1.0 - r0, 1e-9), 0.0, 1.0)
    return gain[session_of_unit].astype(np.float32)


def session_weight(coherence: np.ndarray) -> np.ndarray:
    """Weight of the session context: 0 up to ``COHERENCE_LOW``, 1 from ``COHERENCE_HIGH``."""
    x = np.clip((coherence - COHERENCE_LOW) / (COHERENCE_HIGH - COHERENCE_LOW), 0.0, 1.0)
    return (x * x * (3.0 - 2.0 * x)).astype(np.float32)  # smoothstep


def neighbour_context(vectors: np.ndarray, units: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(units, d): each unit's context in a history without sessions, the decayed sum of the
    vectors of the ``NEIGHBOURS`` units before and after it (arrival order), itself included,
    at unit length. What came just before and after is the nearest thing to a session there."""
    k = len(vectors)
    first = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(first, units, ids.astype(np.int64))
    seq = np.argsort(first, kind="stable")
    v = vectors[seq].astype(np.float64)
    acc = np.zeros_like(v)
    for step in range(-NEIGHBOURS, NEIGHBOURS + 1):  # those past either end count nothing
        at = np.arange(max(0, -step), min(k, k - step))
        acc[at] += NEIGHBOUR_DECAY ** abs(step) * v[at + step]
    acc /= np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-12)
    out = np.empty_like(acc)
    out[seq] = acc
    return out.astype(np.float32)


def build_units(
    ids: np.ndarray,
    ts: np.ndarray,
    inverse: np.ndarray,
    signature_tokens: list[list[str]],
    cmds: list[str | None],
    *,
    seed: int = 0,
) -> WorkflowUnits:
    """Split, describe, join and describe again (see the module docstring)."""
    sig = SignatureTerms.build(inverse, signature_tokens, cmds)
    terms = sig.matrix[inverse]
    pieces = split_units(ids, ts, content=terms, cmds=cmds)
    order = np.argsort(ids, kind="stable")
    even = np.zeros(len(ids), dtype=np.float64)
    even[order] = even_gaps(ts[order])
    long = np.zeros(len(ids), dtype=np.float64)
    long[order] = _long_runs(even[order] > 0, LONG_UNTIMED)
    dims = HISTORY_DIMS if long.any() else UNIT_DIMS
    first = unit_vectors(unit_term_counts(pieces, ids, inverse, sig), seed=seed, dims=dims)
    units = join_pieces(pieces, ids, ts, first, _mostly(pieces, long))
    own = unit_vectors(unit_term_counts(units, ids, inverse, sig), seed=seed, dims=dims)
    untimed, history = _mostly(units, even), _mostly(units, long)
    vectors = own
    if SESSION_WEIGHT > 0:
        # the session around a unit (no pause over MAX_GAP_S): what else was done there
        # (an untimed stretch is one session, which says nothing: its units' weight is 0)
        sessions = split_units(ids, ts, MAX_GAP_S)
        session_vecs = unit_vectors(unit_term_counts(sessions, ids, inverse, sig), seed=seed)
        of_unit = np.zeros(len(own), dtype=np.int64)
        of_unit[units] = sessions
        w = SESSION_WEIGHT * session_weight(session_coherence(own, of_unit))
        w = np.where(untimed, 0.0, w)
        vectors = np.hstack([own, w[:, None] * session_vecs[of_unit]]).astype(np.float32)
    if history.any():  # no sessions there: the units around it are its context
        near = np.where(history[:, None], neighbour_context(own, units, ids), 0.0)
        vectors = np.hstack([vectors, NEIGHBOUR_WEIGHT * near]).astype(np.float32)
    sizes = np.bincount(units, minlength=len(vectors))
    return WorkflowUnits(units, vectors, sizes, untimed)


def _long_runs(flag: np.ndarray, length: int) -> np.ndarray:
    """(n,) bool: ``flag`` where it holds for at least ``length`` events in a row."""
    out = np.zeros(len(flag), dtype=bool)
    edges = np.diff(np.concatenate([[0], flag.astype(np.int8), [0]]))
    for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if end - start >= length:
            out[start:end] = True
    return out


def _mostly(groups: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """(groups,) bool: more than half of each group's events have ``flag``."""
    sizes = np.bincount(groups)
    return np.bincount(groups, weights=flag, minlength=len(sizes)) > 0.5 * sizes


def vote(labels: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Every event takes its unit's most common non-noise label (noise only if all are noise)."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        return labels.copy()
    kept = labels >= 0
    if not kept.any():
        return labels.copy()
    n_lab = int(labels.max()) + 1
    pairs = units[kept] * n_lab + labels[kept]
    counts = np.bincount(pairs, minlength=(int(units.max()) + 1) * n_lab).reshape(-1, n_lab)
    best = counts.argmax(axis=1)
    has = counts.max(axis=1) > 0
    out = np.where(has[units], best[units], labels).astype(labels.dtype)
    return out
