"""The clusterer registry: every algorithm fits the landmark events and returns one result type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LandmarkClusters:
    """What an algorithm found on the landmarks: labels (-1 = noise), confidence in [0, 1]."""

    labels: np.ndarray
    confidence: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)


# fit(X_landmarks, seed) -> LandmarkClusters. Functions must be importable by module path,
# because each runs in a child process.
ClustererFn = Callable[[np.ndarray, int], LandmarkClusters]
REGISTRY: dict[str, ClustererFn] = {}


def register(name: str, fn: ClustererFn) -> ClustererFn:
    """Add (or replace) an algorithm under ``name``."""
    REGISTRY[name] = fn
    return fn


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def clusterer_names() -> list[str]:
    return list(REGISTRY)


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 ordered by cluster size (largest first); -1 stays noise."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(len(labels), -1, dtype=np.int32)
    kept = labels[labels >= 0]
    if kept.size == 0:
        return out
    uniq, counts = np.unique(kept, return_counts=True)
    order = uniq[np.lexsort((uniq, -counts))]
    mapping = {int(u): i for i, u in enumerate(order)}
    for u, i in mapping.items():
        out[labels == u] = i
    return out


def centroid_margin(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Confidence from distances: 1 - d(own centroid) / d(nearest other centroid), clipped."""
    ks = [k for k in np.unique(labels) if k >= 0]
    conf = np.zeros(len(X), dtype=np.float32)
    if len(ks) < 2:
        conf[labels >= 0] = 1.0
        return conf
    C = np.stack([X[labels == k].mean(axis=0) for k in ks])
    D = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(-1))
    pos = {k: i for i, k in enumerate(ks)}
    for i, lab in enumerate(labels):
        if lab < 0:
            continue
        own = D[i, pos[lab]]
        other = np.min(np.delete(D[i], pos[lab]))
        conf[i] = float(np.clip(1.0 - own / max(other, 1e-9), 0.0, 1.0))
    return conf


def silhouette_sample(X: np.ndarray, labels: np.ndarray, seed: int = 0, n: int = 2000) -> float:
    """Silhouette on up to ``n`` non-noise points (nan when fewer than two clusters)."""
    from sklearn.metrics import silhouette_score

    keep = np.flatnonzero(labels >= 0)
    if len(np.unique(labels[keep])) < 2:
        return float("nan")
    if len(keep) > n:
        keep = np.sort(np.random.default_rng(seed).choice(keep, size=n, replace=False))
    if len(np.unique(labels[keep])) < 2:
        return float("nan")
    return float(silhouette_score(X[keep], labels[keep]))


def partition_score(X: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Silhouette of the non-noise points times the share kept (-1 with under two clusters).

    How the density clusterers pick their scale per run: "all noise" and "one cluster" lose.
    """
    sil = silhouette_sample(X, labels, seed)
    return (sil if np.isfinite(sil) else -1.0) * float(np.mean(np.asarray(labels) >= 0))


def knee_index(values: list[float]) -> int:
    """Index of the knee of a decreasing curve: farthest point below its chord (kneedle)."""
    y = np.asarray(values, dtype=np.float64)
    if len(y) < 3:
        return int(np.argmin(y))
    x = np.linspace(0.0, 1.0, len(y))
    yn = (y - y.min()) / max(y.max() - y.min(), 1e-12)
    chord = yn[0] + (yn[-1] - yn[0]) * x
    return int(np.argmax(chord - yn))
