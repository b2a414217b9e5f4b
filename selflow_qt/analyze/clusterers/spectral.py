"""Spectral clustering (Ng, Jordan & Weiss) on a kNN graph; k by the eigengap heuristic."""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import (
    LandmarkClusters,
    centroid_margin,
    register,
    relabel_by_size,
)

MAX_K = 12


def fit_spectral(X: np.ndarray, seed: int) -> LandmarkClusters:
    from scipy.sparse.csgraph import laplacian
    from scipy.sparse.linalg import eigsh
    from sklearn.cluster import KMeans
    from sklearn.neighbors import kneighbors_graph

    n_neighbors = int(min(15, len(X) - 1))
    A = kneighbors_graph(X, n_neighbors=n_neighbors, include_self=False)
    A = 0.5 * (A + A.T)
    L = laplacian(A, normed=True)
    m = min(MAX_K + 1, len(X) - 1)
    # smallest eigenvalues of the normalized Laplacian via the largest of (2I - L)
    from scipy.sparse import identity

    M = 2 * identity(L.shape[0], format="csr") - L
    rng = np.random.default_rng(seed)
    vals, vecs = eigsh(M, k=m, which="LA", v0=rng.random(L.shape[0]), tol=1e-6)
    order = np.argsort(-vals)
    eig = 2 - vals[order]
    vecs = vecs[:, order]
    gaps = np.diff(eig[: MAX_K + 1])
    k = int(np.argmax(gaps[1:]) + 2) if len(gaps) > 1 else 2  # at least two clusters
    U = vecs[:, :k]
    U = U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(U)
    labels = relabel_by_size(labels)
    return LandmarkClusters(
        labels,
        centroid_margin(U, labels),
        {
            "n_clusters": k,
            "criterion": "eigengap",
            "n_neighbors": n_neighbors,
            "eigenvalues": [round(float(e), 4) for e in eig[: k + 2]],
        },
    )


register("spectral", fit_spectral)
