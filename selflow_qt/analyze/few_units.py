"""A first analysis from few workflow units: group them by similarity, name what has evidence.

The five clusterers split a set of workflow units (``analyze.units``); with fewer than
``MIN_UNITS`` of them there is nothing to split, and a first day at a realistic rate (~90 events
an hour) has only two or three units after an hour. Refusing would leave the user with nothing
named; instead the units are grouped the way ``units.join_pieces`` decides that two pieces
continue one context (average-link cosine at least ``JOIN_COSINE``), and a group becomes a
pattern with the same evidence incremental detection asks of a new pattern
(``incremental.has_evidence``: enough events, varied, not one repeated event). Fewer patterns,
each honest; the full clusterers take over once there are enough units.

``readiness`` is what the trigger and the cycle both ask: can a cycle name anything here?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selflow_qt.analyze.consensus import Consensus
from selflow_qt.analyze.incremental import has_evidence
from selflow_qt.analyze.units import JOIN_COSINE, WorkflowUnits

MIN_UNITS = 4  # workflow units the five clusterers need at the least
MIN_EVENTS = 30  # events a cycle needs at the least
METHOD = "similarity"  # the one "algorithm" of a few-units cycle, as runs and docks list it


@dataclass
class UnitGroups:
    """Each unit's group (-1: a group without enough evidence) and the groups that are patterns."""

    unit_labels: np.ndarray  # (units,) int64
    patterns: list[int]  # group labels with evidence, largest first
    groups: int  # groups found, with evidence or not


def group_units(vectors: np.ndarray) -> np.ndarray:
    """Group label of each unit: average-link clusters of cosine at least ``JOIN_COSINE``."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    X = np.asarray(vectors, dtype=np.float64)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    tree = linkage(X, method="average", metric="cosine")
    return fcluster(tree, t=1.0 - JOIN_COSINE, criterion="distance").astype(np.int64) - 1


def few_unit_groups(units: WorkflowUnits, inverse: np.ndarray, min_events: int) -> UnitGroups:
    """Groups of few units; a group is a pattern when its events have ``has_evidence``."""
    raw = group_units(units.vectors)
    ev_group = raw[units.of_event]
    good = [
        int(g)
        for g in np.unique(raw)
        if has_evidence(inverse[ev_group == g], min_events)
    ]  # fmt: skip
    good.sort(key=lambda g: -int((ev_group == g).sum()))
    code = {g: i for i, g in enumerate(good)}
    labels = np.array([code.get(int(g), -1) for g in raw], dtype=np.int64)
    return UnitGroups(labels, list(range(len(good))), len(np.unique(raw)))


def as_consensus(groups: UnitGroups, of_event: np.ndarray) -> Consensus:
    """The grouping in the consensus' shape: one method, which supports each of its patterns."""
    labels = groups.unit_labels.astype(np.int32)
    return Consensus(
        labels=labels,
        confidence=np.where(labels >= 0, 1.0, 0.0).astype(np.float32),
        landmark_labels=labels,
        support={c: [METHOD] for c in groups.patterns},
        stable=list(groups.patterns),
        score=1.0,  # the mean ARI of its one method to itself: see the metrics' note
        per_algorithm_ari={METHOD: 1.0},
        min_support=1,
        weights={METHOD: 1.0},
    )


def unit_xy(vectors: np.ndarray) -> np.ndarray:
    """(units, 2) positions for the scatter: PCA of the unit vectors (zeros when too few)."""
    xy = np.zeros((len(vectors), 2), dtype=np.float32)
    if len(vectors) >= 3:
        from sklearn.decomposition import PCA

        d = min(2, vectors.shape[1], len(vectors) - 1)
        xy[:, :d] = PCA(n_components=d, random_state=0).fit_transform(vectors)
    elif len(vectors) == 2:
        xy[1, 0] = 1.0 - float(
            vectors[0]
            @ vectors[1]
            / max(np.linalg.norm(vectors[0]) * np.linalg.norm(vectors[1]), 1e-12)
        )
    return xy


@dataclass
class Readiness:
    ok: bool
    units: int
    patterns: int  # patterns a cycle would name now (few units), or -1: the clusterers decide
    reason: str


def readiness(table, min_events: int, seed: int = 0) -> Readiness:
    """Whether a cycle on ``table`` can name anything, and why not (the cycle refuses the same)."""
    from selflow_qt.analyze.features import build_features
    from selflow_qt.analyze.units import build_units

    n = len(table)
    if n < MIN_EVENTS:
        return Readiness(False, 0, 0, f"only {n} events (at least {MIN_EVENTS} needed)")
    fs = build_features(table, seed=seed, matrix=False)
    units = build_units(table.ids, table.ts, fs.inverse, fs.signature_tokens, table.cmd, seed=seed)
    return units_readiness(units, fs.inverse, min_events)


def units_readiness(units: WorkflowUnits, inverse: np.ndarray, min_events: int) -> Readiness:
    k = len(units)
    if k >= MIN_UNITS:
        return Readiness(True, k, -1, f"{k} workflow units")
    groups = few_unit_groups(units, inverse, min_events)
    if groups.patterns:
        return Readiness(
            True, k, len(groups.patterns), f"{k} workflow units, {len(groups.patterns)} named"
        )
    return Readiness(
        False,
        k,
        0,
        f"only {k} workflow unit{'s' if k != 1 else ''} and no group of {min_events} varied "
        "events yet (more activity needed)",
    )
