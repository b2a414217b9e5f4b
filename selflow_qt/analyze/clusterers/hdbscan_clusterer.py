"""HDBSCAN (Campello et al. 2013): density clusters of varying density; min size from data size."""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import LandmarkClusters, register, relabel_by_size


def fit_hdbscan(X: np.ndarray, seed: int) -> LandmarkClusters:
    import hdbscan

    n = len(X)
    # a tenth of the points for small data (few workflow units), 1/60 for large, within 3..500
    min_cluster_size = int(max(min(10, max(3, n // 10)), min(500, n // 60)))
    min_samples = int(max(min(5, min_cluster_size), min(50, min_cluster_size // 4)))
    model = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        cluster_selection_method="eom",
        core_dist_n_jobs=1,
    ).fit(X)
    labels = relabel_by_size(model.labels_)
    conf = np.asarray(model.probabilities_, dtype=np.float32)
    conf[labels < 0] = 0.0
    return LandmarkClusters(
        labels, conf, {"min_cluster_size": min_cluster_size, "min_samples": min_samples}
    )


register("hdbscan", fit_hdbscan)
