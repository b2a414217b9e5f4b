"""Agglomerative clustering (Ward linkage); k at the largest jump in merge heights (2..12)."""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import (
    LandmarkClusters,
    centroid_margin,
    register,
    relabel_by_size,
)

MAX_K = 12


def fit_hierarchical(X: np.ndarray, seed: int) -> LandmarkClusters:
    from scipy.cluster.hierarchy import fcluster, linkage

    Z = linkage(X.astype(np.float64), method="ward")
    heights = Z[:, 2]
    # cutting below merge number n-k leaves k clusters; pick k with the largest height jump
    top = heights[::-1][: MAX_K]  # heights of the merges that leave 1, 2, ... clusters
    jumps = top[:-1] - top[1:]  # jump when going from k+1 to k clusters
    k = int(np.argmax(jumps[1:]) + 2) if len(jumps) > 1 else 2
    labels = relabel_by_size(fcluster(Z, t=k, criterion="maxclust") - 1)
    return LandmarkClusters(
        labels,
        centroid_margin(X, labels),
        {"n_clusters": k, "linkage": "ward", "criterion": "largest merge-height gap"},
    )


register("hierarchical", fit_hierarchical)
