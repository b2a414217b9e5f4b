"""Deterministic event features: tokens of every field, time, rhythm and session context.

Tokens (source/action, folder prefixes, extension, depth, app, command verb and argument shape,
working folder) are computed once per distinct event signature, weighted by IDF, reduced with a
truncated SVD fitted on the signatures, then joined with cyclic time, gap/burst numbers and the
mean of the neighbouring events' vectors inside the same session (what came just before/after).
No salted ``hash()``: the vocabulary is sorted, so the same events give the same matrix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from selflow_qt.analyze.dataset import EventTable
from selflow_qt.analyze.paths import folder_prefixes

QUOTED_RE = re.compile(r"\"[^\"]*\"|'[^']*'")
MULTI_WORD_TOOLS = frozenset(
    "git apt apt-get dnf brew docker kubectl systemctl npm yarn pnpm cargo pip uv make go conda"
    " journalctl snap flatpak".split()
)
PREFIX_WORDS = frozenset(("sudo", "time", "nice", "env", "doas"))
FIELD_WEIGHTS = {
    "act": 1.0,
    "dir": 1.0,
    "dest": 0.8,
    "ext": 1.2,
    "depth": 0.3,
    "app": 1.5,
    "verb": 1.5,
    "sub": 1.2,
    "flag": 0.4,
    "arg": 0.6,
    "argext": 0.8,
    "nargs": 0.3,
    "cwd": 1.0,
}
SVD_DIMS = 32
# signatures the SVD is fitted on: all of them up to this many, else a sample weighted by events.
# (A uniform sample of 5,000 was the 1M-event quality drop: distinct signatures grow with the
# data, mostly in the workflows with many distinct files, so the sample under-represented the
# rest and the SVD had no directions left for their terms.)
SVD_FIT = 100_000
CONTEXT_WINDOWS = (8, 32)  # events either side, inside one session


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if "." not in name.strip("."):
        return ""
    return "." + name.rsplit(".", 1)[-1].lower()[:8]


def command_tokens(cmd: str) -> list[str]:
    """Verb, sub-command, flags, short word arguments and argument extensions of a command."""
    words = QUOTED_RE.sub(" ", cmd).split()
    toks: list[str] = []
    while words and words[0] in PREFIX_WORDS:
        toks.append(f"verb:{words.pop(0)}")
    if not words:
        return toks
    verb = words[0].rsplit("/", 1)[-1]
    toks.append(f"verb:{verb}")
    args = words[1:]
    if verb in MULTI_WORD_TOOLS and args and not args[0].startswith("-"):
        toks.append(f"sub:{verb} {args[0]}")
        args = args[1:]
    toks.append(f"nargs:{min(len(args), 4)}")
    for a in args[:8]:
        if a.startswith("-"):
            toks.append(f"flag:{a.split('=', 1)[0][:12]}")
        elif "/" in a or "." in a:
            ext = extension(a)
            if ext and not ext[1:].isdigit():  # 10.1.26.9 is an address, not a ".9" file
                toks.append(f"argext:{ext}")
        elif a.isidentifier() and len(a) <= 20:
            toks.append(f"arg:{a}")
    return toks


def event_tokens(
    source: str,
    action: str,
    path: str | None,
    dest: str | None,
    app: str | None,
    cmd: str | None,
    cwd: str | None,
) -> list[str]:
    """Terms of one event; also what semantic labels and pattern matching are made of."""
    toks = [f"act:{source}/{action}"]
    if path:
        toks += [f"dir:{d}" for d in folder_prefixes(path)]
        ext = extension(path)
        if ext:
            toks.append(f"ext:{ext}")
        toks.append(f"depth:{min(path.count('/'), 8)}")
    if dest:
        toks += [f"dest:{d}" for d in folder_prefixes(dest)[1:]]
    if app:
        toks.append(f"app:{app.lower()[:40]}")
    if cmd:
        toks += command_tokens(cmd)
    if cwd:
        toks += [f"cwd:{d}" for d in folder_prefixes(cwd + "/x")]
    return toks


@dataclass
class FeatureSet:
    """Per-event feature matrix plus the term matrix of distinct event signatures."""

    X: np.ndarray  # (n, d) float32
    inverse: np.ndarray  # (n,) int: event -> signature row
    terms: object  # scipy.sparse.csr_matrix (n_signatures, n_terms), binary
    vocab: list[str]
    segments: np.ndarray  # (n,) int: session id (events split at long gaps)
    signature_tokens: list[list[str]]


def _signatures(t: EventTable) -> tuple[np.ndarray, list[tuple]]:
    index: dict[tuple, int] = {}
    inverse = np.empty(len(t), dtype=np.int64)
    for i, key in enumerate(
        zip(t.source, t.action, t.path, t.dest, t.app, t.cmd, t.cwd, strict=True)
    ):
        inverse[i] = index.setdefault(key, len(index))
    return inverse, list(index)


def _term_matrix(sig_tokens: list[list[str]]):
    from scipy import sparse

    vocab = sorted({tok for toks in sig_tokens for tok in toks})
    col = {tok: j for j, tok in enumerate(vocab)}
    indptr, indices = [0], []
    for toks in sig_tokens:
        indices.extend(sorted({col[t] for t in toks}))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    m = sparse.csr_matrix((data, indices, indptr), shape=(len(sig_tokens), len(vocab)))
    return m, vocab


def session_segments(ts: np.ndarray) -> np.ndarray:
    """Session ids: a new session starts after a gap longer than 10x the median gap (30 s-15 min)."""
    if len(ts) == 0:
        return np.zeros(0, dtype=np.int64)
    gaps = np.diff(ts, prepend=ts[0])
    median = float(np.median(gaps[1:])) if len(gaps) > 1 else 0.0
    threshold = min(max(10.0 * median, 30.0), 900.0)
    return np.cumsum(gaps > threshold).astype(np.int64)


def window_mean(E: np.ndarray, segments: np.ndarray, w: int) -> np.ndarray:
    """Mean of rows i-w..i+w of ``E`` that lie in row i's session (cumulative sums, O(n d))."""
    n = len(E)
    if n == 0:
        return E.copy()
    idx = np.arange(n)
    starts = np.searchsorted(segments, segments, side="left")
    ends = np.searchsorted(segments, segments, side="right") - 1
    lo = np.maximum(idx - w, starts)
    hi = np.minimum(idx + w, ends)
    S = np.vstack(
        [np.zeros((1, E.shape[1]), dtype=np.float64), np.cumsum(E, axis=0, dtype=np.float64)]
    )
    out = (S[hi + 1] - S[lo]) / (hi - lo + 1)[:, None]
    return out.astype(np.float32)


def _rhythm(t: EventTable, segments: np.ndarray) -> np.ndarray:
    hours = t.local_hours()
    weekday = t.local_weekday()
    gaps = np.diff(t.ts, prepend=t.ts[0] if len(t) else 0.0)
    # burst size: events within 30 s either side
    lo = np.searchsorted(t.ts, t.ts - 30.0, side="left")
    hi = np.searchsorted(t.ts, t.ts + 30.0, side="right")
    cols = [
        np.sin(2 * math.pi * hours / 24),
        np.cos(2 * math.pi * hours / 24),
        (weekday >= 5).astype(np.float64) * 2 - 1,
        np.log1p(np.maximum(gaps, 0.0)) / 4.0 - 1.0,
        np.log1p(hi - lo) / 3.0 - 1.0,
    ]
    return np.stack(cols, axis=1).astype(np.float32)


def build_features(
    t: EventTable,
    *,
    seed: int = 0,
    svd_dims: int = SVD_DIMS,
    context_weight: float = 3.0,
    time_weight: float = 0.25,
    text_vectors: np.ndarray | None = None,
    matrix: bool = True,
) -> FeatureSet:
    """The feature matrix of an event table (see the module docstring for what goes in).

    ``matrix=False``: only the terms (signatures, vocabulary, sessions); ``X`` has no columns.
    The analysis cycle clusters workflow units (``analyze.units``) and needs no event matrix.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    inverse, sigs = _signatures(t)
    sig_tokens = [event_tokens(*s) for s in sigs]
    terms, vocab = _term_matrix(sig_tokens)
    weights = np.array([FIELD_WEIGHTS.get(v.split(":", 1)[0], 1.0) for v in vocab], np.float32)
    # IDF over events (not signatures), so frequent terms count less
    df = np.asarray(terms.T @ np.bincount(inverse, minlength=len(sigs))).ravel()
    idf = np.log((1 + len(t)) / (1 + df)) + 1.0
    if not matrix:
        return FeatureSet(
            X=np.zeros((len(t), 0), dtype=np.float32),
            inverse=inverse,
            terms=terms,
            vocab=vocab,
            segments=session_segments(t.ts),
            signature_tokens=sig_tokens,
        )
    weighted = normalize(terms.multiply(weights * idf).tocsr())
    k = max(1, min(svd_dims, weighted.shape[1] - 1, weighted.shape[0] - 1))
    if weighted.shape[1] > 1 and weighted.shape[0] > 2:
        svd = TruncatedSVD(n_components=k, random_state=seed, n_iter=5)
        if weighted.shape[0] > SVD_FIT:  # fit on a sample of signatures, transform them all
            freq = np.bincount(inverse, minlength=weighted.shape[0]).astype(np.float64)
            rows = np.random.default_rng(seed).choice(
                weighted.shape[0], SVD_FIT, replace=False, p=freq / freq.sum()
            )
            svd.fit(weighted[np.sort(rows)])
        else:
            svd.fit(weighted)
        sig_vecs = svd.transform(weighted).astype(np.float32)
    else:
        sig_vecs = weighted.toarray().astype(np.float32)
    if text_vectors is not None:  # optional semantic text embeddings, one row per signature
        sig_vecs = np.hstack([sig_vecs, 0.5 * text_vectors.astype(np.float32)])
    E = sig_vecs[inverse]
    segments = session_segments(t.ts)
    parts = [E]
    for w in CONTEXT_WINDOWS:
        parts.append(context_weight * window_mean(E, segments, w))
    parts.append(time_weight * _rhythm(t, segments))
    X = np.hstack(parts).astype(np.float32)
    return FeatureSet(
        X=X,
        inverse=inverse,
        terms=terms,
        vocab=vocab,
        segments=segments,
        signature_tokens=sig_tokens,
    )
