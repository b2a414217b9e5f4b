"""Where time says nothing, cut on content: workflow pieces of an untimed history.

A bash history without timestamps is imported with invented times, evenly spaced
(``collect.import_shell``), and other recordings come with synthetic even times too. A pause
rule finds no pause there, so one piece would hold the whole history. Inside such a stretch
(``EVEN_RUN`` or more equal gaps in a row) a piece ends where its content changes instead:

- every command carries the folder it ran in, followed through its ``cd`` commands (a history
  has no working folder of its own), and the host a ``ssh``/``exit`` pair moved it to;
- TextTiling (Hearst 1997) on those terms and the events' own: at each gap the IDF-weighted
  terms of the ``WINDOW`` events before and after are compared (cosine); a gap whose similarity
  lies deep in a valley (depth above the mean minus half a standard deviation of all depths, and
  at least ``MIN_DEPTH``) is a change point; pieces are at least ``MIN_PIECE`` events long.

Nothing here knows a particular tool or data set: only what changed between two stretches.
``units.join_pieces`` then joins neighbouring pieces that still continue one context.
"""

from __future__ import annotations

import posixpath
import re
import shlex

import numpy as np

EVEN_RUN = 8  # equal gaps in a row: the times were invented (or synthetic), not measured
WINDOW = 10  # events in each block TextTiling compares across a gap
MIN_PIECE = 5  # events in a piece at the least
MIN_DEPTH = 0.15  # a valley shallower than this is noise, not a change of context
FOLDER_DEPTH = 3  # folder terms: ~, ~/src, ~/src/app
_HOST_RE = re.compile(r"^(?:[^@\s]+@)?([A-Za-z0-9][A-Za-z0-9.\-]*)$")
_SHELLS = frozenset(("exit", "logout"))


def even_gaps(t: np.ndarray) -> np.ndarray:
    """(n,) bool for times in arrival order: the gap before event i is part of a run of at
    least ``EVEN_RUN`` equal positive gaps (times that carry no pause information)."""
    n = len(t)
    out = np.zeros(n, dtype=bool)
    if n < EVEN_RUN + 1:
        return out
    d = np.diff(t)
    tol = 1e-6 * np.maximum(np.abs(d[1:]), 1.0)
    same = np.concatenate([[False], np.abs(d[1:] - d[:-1]) <= tol])  # gap j equals gap j-1
    run_start = np.flatnonzero(~same)
    run_len = np.diff(np.append(run_start, len(d)))
    for s, k in zip(run_start.tolist(), run_len.tolist(), strict=True):
        if k >= EVEN_RUN and d[s] > 0:
            out[s + 1 : s + 1 + k] = True
    return out


def _words(cmd: str) -> list[str]:
    try:
        return shlex.split(cmd, comments=False)
    except ValueError:
        return cmd.split()


def context_terms(cmds: list[str | None]) -> list[list[str]]:
    """Per command (in order), the folder and host it ran in, followed from ``cd`` and ``ssh``.

    The history starts in ``~``; ``cd`` moves (absolute, ``~``, relative, ``-``); ``ssh HOST``
    opens a host until ``exit`` returns to the folder it left. Folders become ``folder:`` prefixes, the host ``host:NAME``.
    """
    cwd, prev = "~", "~"
    hosts: list[tuple[str, str]] = []  # (host, the folder to return to on exit)
    out: list[list[str]] = []
    for cmd in cmds:
        terms = [f"folder:{p}" for p in _prefixes(cwd)]
        if hosts:
            terms.append(f"host:{hosts[-1][0]}")
        out.append(terms)
        words = _words(cmd or "")
        while words and words[0] in ("sudo", "builtin", "command"):
            words = words[1:]
        if not words:
            continue
        if words[0] == "cd":
            target = next((w for w in words[1:] if not w.startswith("-") or w == "-"), "~")
            new = prev if target == "-" else _resolve(cwd, target)
            cwd, prev = new, cwd
        elif words[0] == "ssh":
            host = next((w for w in words[1:] if not w.startswith("-")), None)
            m = _HOST_RE.match(host or "")
            if m:
                hosts.append((m.group(1).lower(), cwd))
                cwd, prev = "~", cwd
        elif words[0] in _SHELLS and hosts:
            cwd, prev = hosts.pop()[1], cwd
    return out


def _resolve(cwd: str, target: str) -> str:
    if target.startswith("~"):
        path = target
    elif target.startswith("/"):
        path = target
    else:
        path = posixpath.join(cwd, target)
    path = posixpath.normpath(path)
    if path.startswith("~/..") or path == "~/..":
        path = "/home"
    return path


def _prefixes(path: str) -> list[str]:
    """``~/src/app/x`` -> ``~``, ``~/src``, ``~/src/app`` (at most ``FOLDER_DEPTH``)."""
    parts = [p for p in path.split("/") if p]
    lead = "/" if path.startswith("/") else ""
    if not parts:
        return [lead or "~"]
    return [lead + "/".join(parts[: i + 1]) for i in range(min(len(parts), FOLDER_DEPTH))]


def block_similarity(X, window: int = WINDOW) -> np.ndarray:
    """(n-1,) cosine of the IDF-weighted term sums of the ``window`` events either side of
    each gap (gap g lies between events g and g+1); ``X`` is (n, terms) sparse, in order."""
    from scipy import sparse

    n = X.shape[0]
    if n < 2:
        return np.zeros(0)
    df = np.asarray((X > 0).sum(axis=0)).ravel()
    idf = np.log((n + 1) / (df + 1)).astype(np.float64)
    W = sparse.csr_matrix(X, dtype=np.float64) @ sparse.diags(idf)
    gaps = np.arange(n - 1)
    rows_l, cols_l, rows_r, cols_r = [], [], [], []
    for k in range(window):
        left = gaps - k
        ok = left >= 0
        rows_l.append(gaps[ok])
        cols_l.append(left[ok])
        right = gaps + 1 + k
        ok = right < n
        rows_r.append(gaps[ok])
        cols_r.append(right[ok])
    L = sparse.csr_matrix(
        (np.ones(sum(map(len, rows_l))), (np.concatenate(rows_l), np.concatenate(cols_l))),
        shape=(n - 1, n),
    )
    R = sparse.csr_matrix(
        (np.ones(sum(map(len, rows_r))), (np.concatenate(rows_r), np.concatenate(cols_r))),
        shape=(n - 1, n),
    )
    A, B = (L @ W).tocsr(), (R @ W).tocsr()
    dot = np.asarray(A.multiply(B).sum(axis=1)).ravel()
    na = np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())
    nb = np.sqrt(np.asarray(B.multiply(B).sum(axis=1)).ravel())
    return dot / np.maximum(na * nb, 1e-12)


def depth_scores(sim: np.ndarray) -> np.ndarray:
    """TextTiling's depth of each gap: how far its similarity lies below the peaks either side."""
    n = len(sim)
    left = np.empty(n)
    right = np.empty(n)
    for i in range(n):
        left[i] = left[i - 1] if i and sim[i - 1] >= sim[i] else sim[i]
    for i in range(n - 1, -1, -1):
        right[i] = right[i + 1] if i < n - 1 and sim[i + 1] >= sim[i] else sim[i]
    return (left - sim) + (right - sim)


def change_points(X, min_piece: int = MIN_PIECE) -> np.ndarray:
    """(n,) bool: event i starts a new piece (its content differs from what came before)."""
    n = X.shape[0]
    new = np.zeros(n, dtype=bool)
    if n < 2 * min_piece:
        return new
    depth = depth_scores(block_similarity(X))
    cutoff = max(float(depth.mean() - depth.std() / 2), MIN_DEPTH)
    peak = np.ones(len(depth), dtype=bool)
    peak[1:] &= depth[1:] >= depth[:-1]
    peak[:-1] &= depth[:-1] >= depth[1:]
    cand = np.flatnonzero(peak & (depth > cutoff))
    taken: list[int] = []
    for g in cand[np.argsort(-depth[cand], kind="stable")].tolist():
        cut = g + 1  # the event after the gap starts the piece
        if cut < min_piece or n - cut < min_piece:
            continue
        if all(abs(cut - c) >= min_piece for c in taken):
            taken.append(cut)
    new[taken] = True
    return new


def content_cuts(X, cmds: list[str | None], untimed: np.ndarray) -> np.ndarray:
    """(n,) bool, events in arrival order: a new piece starts here, by content, inside each
    stretch of untimed events. ``X``: each event's terms; ``untimed``: ``even_gaps``."""
    from scipy import sparse

    n = len(untimed)
    new = np.zeros(n, dtype=bool)
    if not untimed.any():
        return new
    # stretches: an untimed gap joins event i to event i-1
    starts = np.flatnonzero(untimed & ~np.concatenate([[False], untimed[:-1]])) - 1
    for s in starts.tolist():
        e = s + 1
        while e < n and untimed[e]:
            e += 1
        ctx = context_terms(cmds[s:e])
        vocab = sorted({t for ts in ctx for t in ts})
        col = {t: j for j, t in enumerate(vocab)}
        indptr, indices = [0], []
        for ts in ctx:
            indices.extend(col[t] for t in ts)
            indptr.append(len(indices))
        C = sparse.csr_matrix(
            (np.ones(len(indices), np.float32), indices, indptr), shape=(e - s, max(len(vocab), 1))
        )
        new[s:e] = change_points(sparse.hstack([X[s:e], C]).tocsr())
    return new
