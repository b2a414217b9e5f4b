"""DBSCAN (Ester et al. 1996) with eps at the knee of the sorted k-distance curve."""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import LandmarkClusters, register, relabel_by_size


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
    eps = knee_eps(dist[:, -1])
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    labels = relabel_by_size(model.labels_)
    conf = np.where(labels >= 0, 0.6, 0.0).astype(np.float32)
    conf[model.core_sample_indices_] = 1.0
    return LandmarkClusters(labels, conf, {"eps": round(eps, 4), "min_samples": min_samples})


register("density", fit_density)
