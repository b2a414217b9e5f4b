"""Spectral clustering (Ng, Jordan & Weiss) on a self-tuning kNN affinity; k (2..12) by silhouette."""

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


def fit_spectral(X: np.ndarray, seed: int) -> LandmarkClusters:
    from scipy.sparse.csgraph import laplacian
    from scipy.sparse.linalg import eigsh
    from sklearn.cluster import KMeans
    from sklearn.neighbors import NearestNeighbors

    n_neighbors = int(min(30, len(X) - 1))
    dist, idx = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(X).kneighbors(X)
    dist, idx = dist[:, 1:], idx[:, 1:]
    # self-tuning affinity (Zelnik-Manor & Perona 2004): local scale = distance to 7th neighbour
    sigma = np.maximum(dist[:, min(6, n_neighbors - 1)], 1e-9)
    w = np.exp(-(dist**2) / (sigma[:, None] * sigma[idx]))
    from scipy.sparse import csr_matrix

    A = csr_matrix(
        (w.ravel(), idx.ravel(), np.arange(0, w.size + 1, n_neighbors)), shape=(len(X),) * 2
    )
    A = A.maximum(A.T)
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
    best = (-np.inf, 2, None, None)
    scores = {}
    for k in range(2, m):
        U = vecs[:, :k] / np.maximum(np.linalg.norm(vecs[:, :k], axis=1, keepdims=True), 1e-12)
        labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(U)
        s = silhouette_sample(X, labels, seed)
        scores[k] = round(s, 4)
        if s > best[0]:
            best = (s, k, labels, U)
    _, k, labels, U = best
    labels = relabel_by_size(labels)
    return LandmarkClusters(
        labels,
        centroid_margin(U, labels),
        {
            "n_clusters": k,
            "criterion": "silhouette",
            "scores": scores,
            "n_neighbors": n_neighbors,
            "eigenvalues": [round(float(e), 4) for e in eig[: k + 2]],
        },
    )


register("spectral", fit_spectral)
