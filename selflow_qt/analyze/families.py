"""Tool families: a pattern of untimed history that holds two kinds of work is split in two.

The clusterers see each unit of a history as a whole: a small routine that shares its everyday
commands (``ls``, ``cat``, ``ssh``, ``nmap``) with a larger one lies close to it, and a pattern
that holds both is what most of them agree on. But a tool that is a main part of some of the
pattern's units (``MAIN_SHARE`` of their commands or more) while the others hardly touch it
(``STRAY_SHARE`` of its uses in the pattern at the most) says the pattern is two kinds of work:
one done with that tool, one without it. Where both parts recur (``consensus.recurs``: three
units, or two separate sittings), they become two patterns, and each part is looked at again.

Moving about (``cd``, ``exit``, ``sudo``, ...) is no tool; nothing here knows any tool's name.
"""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.consensus import recurs
from selflow_qt.analyze.names import HOUSEKEEPING

MAIN_SHARE = 0.2  # a tool on this share of a unit's commands is a main part of its work
STRAY_SHARE = 0.1  # ... and the pattern's other units hold at most this share of its uses


def unit_tools(units: np.ndarray, inverse: np.ndarray, signature_tokens: list[list[str]]):
    """(units, tools) sparse counts of each unit's commands per tool, and each unit's size.
    ``units``: each event's unit; ``inverse``: each event's signature."""
    from scipy import sparse

    verbs = [next((t[5:] for t in toks if t.startswith("verb:")), "") for toks in signature_tokens]
    names = sorted({v for v in verbs if v and v not in HOUSEKEEPING})
    col = {v: j for j, v in enumerate(names)}
    sig_col = np.array([col.get(v, -1) for v in verbs], dtype=np.int64)
    of_event = sig_col[inverse] if len(inverse) else np.zeros(0, np.int64)
    k = int(units.max()) + 1 if len(units) else 0
    has = of_event >= 0
    counts = sparse.csr_matrix(
        (np.ones(int(has.sum())), (units[has], of_event[has])), shape=(k, max(len(names), 1))
    )
    return counts, np.bincount(units, minlength=k)


def split_families(
    labels: np.ndarray, stable: list[int], counts, sizes: np.ndarray
) -> tuple[np.ndarray, dict[int, int]]:
    """Each unit's label with every stable pattern split along its tool families, and which
    pattern each new label came from. ``labels``: (units,), numbered in arrival order;
    ``counts``, ``sizes``: from ``unit_tools`` (kept sparse: a long history has many of both)."""
    from scipy import sparse

    out = np.asarray(labels).copy()
    counts = sparse.csr_matrix(counts, dtype=np.float64)
    share = sparse.diags(1.0 / np.maximum(sizes, 1)) @ counts
    main = counts.multiply(share >= MAIN_SHARE)
    total = np.asarray(counts.sum(axis=0)).ravel()
    # the tool is the work itself wherever it is used: all but STRAY_SHARE of its uses in
    # the history lie in units where it is a main part
    distinct = (total > 0) & (total - np.asarray(main.sum(axis=0)).ravel() <= STRAY_SHARE * total)
    parent: dict[int, int] = {}
    todo = list(stable)
    while todo:
        c = todo.pop()
        members = np.flatnonzero(out == c)
        held = _family(members, counts, share, distinct)
        if held is None:
            continue
        new = int(out.max()) + 1
        out[held] = new
        parent[new] = parent.get(c, c)
        todo += [c, new]
    return out, parent


def _family(members: np.ndarray, counts, share, distinct: np.ndarray) -> np.ndarray | None:
    """The units of a pattern that make its most used tool family of their own, or None."""
    if len(members) < 4:  # two parts that each recur need four units at the least
        return None
    rows = counts[members]
    tools = np.unique(rows.indices)  # the tools this pattern uses
    uses = rows[:, tools].toarray()
    main = share[members][:, tools].toarray() >= MAIN_SHARE  # (members, its tools)
    in_main = np.where(main, uses, 0.0).sum(axis=0)
    total = uses.sum(axis=0)
    ok = distinct[tools] & main.any(axis=0) & (total - in_main <= STRAY_SHARE * total)
    for j in np.flatnonzero(ok)[np.argsort(-in_main[ok], kind="stable")].tolist():
        held = main[:, j]
        if not held.all() and recurs(members[held]) and recurs(members[~held]):
            return members[held]
    return None


def split_consensus(cons, of_event: np.ndarray, inverse: np.ndarray, signature_tokens, landmarks):
    """The consensus of an untimed history's units with its stable patterns split along their
    tool families; a new pattern keeps the support of the one it came from."""
    counts, sizes = unit_tools(of_event, inverse, signature_tokens)
    labels, parent = split_families(cons.labels, cons.stable, counts, sizes)
    if not parent:
        return cons
    cons.labels = labels.astype(cons.labels.dtype)
    cons.landmark_labels = cons.labels[landmarks]
    cons.support = {**cons.support, **{c: cons.support.get(p, []) for c, p in parent.items()}}
    cons.stable = sorted([*cons.stable, *parent])
    return cons
