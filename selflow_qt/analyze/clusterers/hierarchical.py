"""Agglomerative clustering (Ward linkage); the cut (2..12 clusters) with the best silhouette."""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import (
    LandmarkClusters,
    centroid_margin,
    register,
    relabel_by_size,
    silhouette_sample,
)

MAX_K = 12


def fit_hierarchical(X: np.ndarray, seed: int) -> LandmarkClusters:
    from scipy.cluster.hierarchy import fcluster, linkage

    Z = linkage(X.astype(np.float64), method="ward")
    best_k, best_s, best_labels, scores = 1, -np.inf, np.zeros(len(X), np.int64), {}
    for k in range(2, min(MAX_K, len(X) - 1) + 1):
        labels = fcluster(Z, t=k, criterion="maxclust") - 1
        s = silhouette_sample(X, labels, seed)
        scores[k] = round(s, 4)
        if s > best_s:
            best_k, best_s, best_labels = k, s, labels
    labels = relabel_by_size(best_labels)
    return LandmarkClusters(
        labels,
        centroid_margin(X, labels),
        {"n_clusters": best_k, "linkage": "ward", "criterion": "silhouette", "scores": scores},
    )


register("hierarchical", fit_hierarchical)
