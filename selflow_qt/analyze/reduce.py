"""Reduction: PCA fitted on a sample, landmarks, UMAP on the landmarks, kNN out-of-sample.

Features are scaled by construction (unit-norm term vectors, bounded time columns), so PCA
centres them without whitening (whitening would blow up near-empty directions).

Cost grows gently with data: PCA is fitted on at most ``PCA_FIT`` rows and applied to all; the
quadratic steps (UMAP, the clusterers) see only the landmarks (a sample stratified over k-means
cells, so a small workflow keeps enough of them); every other row is placed by its k nearest
landmarks in PCA space (inverse-distance weights), which also carries labels. The cycle's rows
are workflow units (``analyze.units``), far fewer than events (2,176 for 1M demo events).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

PCA_DIMS = 16
PCA_FIT = 20_000
KNN = 8
STRATA = 32  # cells the landmark sample is stratified over
UMAP_NEIGHBORS = 15


@dataclass
class Reduced:
    Z: np.ndarray  # (n, d) PCA space, all events
    landmarks: np.ndarray  # (m,) indices of the landmark events
    space: np.ndarray  # (m, c) where clusterers work (UMAP of the landmarks, or PCA)
    xy: np.ndarray  # (n, 2) float32 projection for the scatter
    knn_idx: np.ndarray  # (n, KNN) landmark positions (0..m-1) nearest each event
    knn_w: np.ndarray  # (n, KNN) normalized inverse-distance weights
    method: str


def pick_landmarks(n: int, m: int, seed: int, Z: np.ndarray | None = None) -> np.ndarray:
    """``m`` row indices (sorted); all when n <= m.

    Without ``Z`` a uniform sample. With ``Z``, a stratified one: the rows are split into
    ``STRATA`` cells (k-means on ``Z``), each cell keeps at least ``max(10, m // 60)`` rows
    (what HDBSCAN needs for a cluster of ``m`` landmarks) or all it has, and the rest of the
    budget goes to cells by size. A workflow of a few units keeps enough landmarks to be found.
    """
    if n <= m:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if Z is None or m < 2 * STRATA:
        return np.sort(rng.choice(n, size=m, replace=False))
    from sklearn.cluster import MiniBatchKMeans

    fit = Z if n <= 20 * m else Z[rng.choice(n, size=20 * m, replace=False)]
    km = MiniBatchKMeans(n_clusters=STRATA, random_state=seed, n_init=3, batch_size=2048)
    cells = km.fit(fit).predict(Z)
    sizes = np.bincount(cells, minlength=STRATA)
    quota = np.minimum(sizes, max(10, m // 60))
    if quota.sum() > m:  # more cells than budget: proportional to the floors
        quota = np.floor(quota * m / quota.sum()).astype(np.int64)
    rest = m - int(quota.sum())
    room = sizes - quota
    if rest > 0 and room.sum() > 0:
        share = rest * room / room.sum()
        extra = np.floor(share).astype(np.int64)
        order = np.argsort(-(share - extra), kind="stable")
        extra[order[: rest - int(extra.sum())]] += 1
        quota += np.minimum(extra, room)
    picked = [
        rng.choice(np.flatnonzero(cells == c), size=int(q), replace=False)
        for c, q in enumerate(quota)
        if q > 0
    ]
    return np.sort(np.concatenate(picked))


def _umap(space: np.ndarray, n_components: int, knn: tuple, seed: int) -> np.ndarray:
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = umap.UMAP(
            n_components=n_components,
            n_neighbors=UMAP_NEIGHBORS,
            min_dist=0.0 if n_components > 2 else 0.1,
            random_state=seed,
            precomputed_knn=knn,
            n_epochs=200 if n_components > 2 else 120,
            init="spectral",
        )
        return model.fit_transform(space).astype(np.float32)


def umap_embedding(L: np.ndarray, n_components: int, seed: int = 0) -> np.ndarray:
    """UMAP of the landmarks, on exact kNN (skips pynndescent's slow first compile)."""
    from sklearn.neighbors import NearestNeighbors

    ld, li = NearestNeighbors(n_neighbors=UMAP_NEIGHBORS).fit(L).kneighbors(L)
    return _umap(L, n_components, (li, ld, None), seed)


def place(xy_l: np.ndarray, idx: np.ndarray, w: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """2-D positions of all events: inverse-distance mean of their nearest landmarks' positions."""
    xy = np.einsum("nk,nkd->nd", w, xy_l[idx]).astype(np.float32)
    xy[landmarks] = xy_l  # landmarks keep their own coordinates
    return xy


def umap_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("umap") is not None


def reduce_features(
    X: np.ndarray,
    *,
    n_landmarks: int = 3000,
    seed: int = 0,
    umap: str = "off",
    cluster_dims: int = 5,
    timings: dict[str, float] | None = None,
) -> Reduced:
    """PCA for all events, UMAP (or PCA) for the landmarks, kNN placement of the rest.

    ``umap``: "off" (PCA everywhere), "scatter" (UMAP for the 2-D view only; the clusterers
    work in PCA space) or "cluster" (UMAP to ``cluster_dims`` for the clusterers as well).
    """
    if umap not in ("off", "scatter", "cluster"):
        raise ValueError(f"umap must be off, scatter or cluster, not {umap!r}")
    import time

    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    t0 = time.perf_counter()
    n = len(X)
    rng = np.random.default_rng(seed)
    fit_rows = X if n <= PCA_FIT else X[rng.choice(n, size=PCA_FIT, replace=False)]
    dims = int(max(1, min(PCA_DIMS, X.shape[1], len(fit_rows) - 1)))
    pca = PCA(n_components=dims, random_state=seed).fit(fit_rows)
    Z = pca.transform(X).astype(np.float32)
    landmarks = pick_landmarks(n, n_landmarks, seed, Z)
    L = Z[landmarks]
    k = int(min(KNN, len(L)))
    nn = NearestNeighbors(n_neighbors=k).fit(L)
    dist, idx = nn.kneighbors(Z)
    w = 1.0 / (dist + 1e-6)
    w = (w / w.sum(axis=1, keepdims=True)).astype(np.float32)
    if timings is not None:
        timings["pca_knn"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    method = "pca"
    space = L
    xy_l = L[:, :2] if L.shape[1] >= 2 else np.hstack([L, np.zeros((len(L), 1), np.float32)])
    if umap == "cluster" and len(L) > UMAP_NEIGHBORS + 2 and umap_available():
        space = umap_embedding(L, cluster_dims, seed)
        method = "pca+umap-cluster"
    xy = place(xy_l, idx, w, landmarks)
    if timings is not None:
        timings["umap"] = time.perf_counter() - t0
    return Reduced(
        Z=Z,
        landmarks=landmarks,
        space=np.ascontiguousarray(space, dtype=np.float32),
        xy=xy,
        knn_idx=idx.astype(np.int32),
        knn_w=w,
        method=method,
    )


def propagate(
    labels_l: np.ndarray, conf_l: np.ndarray, knn_idx: np.ndarray, knn_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Labels for every event by a weighted vote of its nearest landmarks (-1 votes count too).

    Confidence = the winning label's vote share times the voters' mean confidence.
    """
    L = labels_l[knn_idx]  # (n, k)
    C = conf_l[knn_idx]
    uniq = np.unique(labels_l)
    scores = np.stack([(knn_w * (L == u)).sum(axis=1) for u in uniq], axis=1)
    win = scores.argmax(axis=1)
    labels = uniq[win].astype(np.int32)
    share = scores[np.arange(len(win)), win]
    mask = L == labels[:, None]
    mean_conf = (C * mask * knn_w).sum(axis=1) / np.maximum((mask * knn_w).sum(axis=1), 1e-9)
    return labels, (share * mean_conf).astype(np.float32)
