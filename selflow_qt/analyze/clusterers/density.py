"""DBSCAN (Ester et al. 1996); eps chosen per run from the sorted k-distance curve.

Candidates: the knee of the curve (kneedle) and a range of its quantiles. Each is scored by the
silhouette of what it finds times the share of points it keeps (so "everything is noise" and
"one big cluster" both lose); the best one wins. On few, spread-out points (workflow units of
real sessions) the knee alone often merges everything into one cluster.
"""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import (
    LandmarkClusters,
    partition_score,
    register,
    relabel_by_size,
)

EPS_QUANTILES = (0.2, 0.35, 0.5, 0.65, 0.8)


def knee_eps(kdist: np.ndarray) -> float:
    """The k-distance at the point farthest from the chord of the sorted curve (kneedle)."""
    y = np.sort(kdist)
    x = np.linspace(0.0, 1.0, len(y))
    yn = (y - y[0]) / max(y[-1] - y[0], 1e-12)
    i = int(np.argmax(x - yn))  # the curve bends up: farthest below the diagonal
    return float(max(y[i], 1e-6))


def fit_density(X: np.ndarray, seed: int) -> LandmarkClusters:
    from sklearn.cluster import DBSCAN
    from sklearn.neighbors import NearestNeighbors

    min_samples = int(max(5, min(30, len(X) // 200)))
    dist, _ = NearestNeighbors(n_neighbors=min_samples).fit(X).kneighbors(X)
    knee = knee_eps(dist[:, -1])
    candidates = [knee] + [
        float(q) for q in np.quantile(dist[:, -1], EPS_QUANTILES) if abs(q - knee) > 1e-9
    ]
    best, scores = None, {}
    for eps in sorted({round(max(e, 1e-6), 6) for e in candidates}):
        model = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
        score = partition_score(X, model.labels_, seed)
        scores[round(eps, 4)] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, eps, model)
    _, eps, model = best
    labels = relabel_by_size(model.labels_)
    conf = np.where(labels >= 0, 0.6, 0.0).astype(np.float32)
    conf[model.core_sample_indices_] = 1.0
    return LandmarkClusters(
        labels,
        conf,
        {
            "eps": round(eps, 4),
            "min_samples": min_samples,
            "knee_eps": round(knee, 4),
            "criterion": "silhouette x kept share",
            "scores": scores,
        },
    )


register("density", fit_density)
