"""Each of the five clusterers, by its own module, on small synthetic data: what it chooses."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from selflow_qt.analyze.clusterers.base import (
    centroid_margin,
    knee_index,
    relabel_by_size,
)
from selflow_qt.analyze.clusterers.density import fit_density, knee_eps
from selflow_qt.analyze.clusterers.gmm import fit_gmm
from selflow_qt.analyze.clusterers.hdbscan_clusterer import fit_hdbscan
from selflow_qt.analyze.clusterers.hierarchical import fit_hierarchical
from selflow_qt.analyze.clusterers.spectral import fit_spectral


@pytest.fixture(autouse=True)
def one_thread():
    """The clusterers run single-threaded in their child processes; so do they here."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def blobs(n: int = 600, k: int = 3, seed: int = 1, std: float = 0.5):
    X, y = make_blobs(
        n_samples=n,
        centers=k,
        n_features=4,
        cluster_std=std,
        center_box=(-10, 10),
        random_state=seed,
    )
    return X.astype(np.float32), y


def with_outliers(X: np.ndarray, n: int = 6) -> np.ndarray:
    far = (
        np.full((n, X.shape[1]), 60.0, dtype=np.float32)
        + np.arange(n, dtype=np.float32)[:, None] * 9
    )
    return np.vstack([X, far])


def test_relabel_by_size_orders_clusters_largest_first_and_keeps_noise():
    out = relabel_by_size(np.array([5, 5, 9, 9, 9, -1, 7]))
    assert out.tolist() == [1, 1, 0, 0, 0, -1, 2]


def test_knee_index_is_where_the_curve_stops_paying():
    # steep drop until the 4th value, then flat: the knee is there
    assert knee_index([100.0, 60.0, 30.0, 10.0, 9.0, 8.5, 8.0]) in (2, 3)


def test_centroid_margin_is_high_at_a_centre_and_low_between_clusters():
    X = np.array([[0.0, 0], [0.1, 0], [10, 0], [10.1, 0], [5.0, 0]], dtype=np.float32)
    labels = np.array([0, 0, 1, 1, 0])
    conf = centroid_margin(X, labels)
    assert conf[0] > 0.8 and conf[2] > 0.8
    assert conf[4] < 0.5 and conf[4] < conf[0]  # far from its own centre, near the other


def test_density_eps_sits_at_the_knee_of_the_k_distance_curve():
    kdist = np.concatenate([np.full(95, 1.0), np.linspace(5.0, 50.0, 5)])
    assert 0.9 <= knee_eps(kdist) <= 5.0


def test_density_finds_the_blobs_and_leaves_far_points_as_noise():
    X, y = blobs()
    Xo = with_outliers(X)
    res = fit_density(Xo, 0)
    assert adjusted_rand_score(y, res.labels[: len(y)]) >= 0.95
    assert (res.labels[len(y) :] == -1).all()
    assert res.confidence[len(y) :].max() == 0.0
    assert res.params["eps"] > 0 and res.params["min_samples"] >= 5
    # eps is the candidate (knee, k-distance quantiles) that scored best on this data
    scores = res.params["scores"]
    assert len(scores) >= 3 and scores[res.params["eps"]] == max(scores.values())


def test_gmm_chooses_the_number_of_components_at_the_bic_knee():
    X, y = blobs(n=320, k=4, seed=2)
    res = fit_gmm(X, 0)
    assert res.params["n_components"] == 4, res.params["bic"]
    assert adjusted_rand_score(y, res.labels) >= 0.95
    assert set(res.params["bic"]) >= {2, 3, 4, 5}
    assert ((0 <= res.confidence) & (res.confidence <= 1)).all()


def test_hdbscan_scales_its_minimum_cluster_size_with_the_data_and_marks_outliers():
    X, y = blobs(n=1200)
    res = fit_hdbscan(with_outliers(X), 0)
    assert res.params["min_cluster_size"] == max(10, min(500, (len(X) + 6) // 60))
    assert adjusted_rand_score(y, res.labels[: len(y)]) >= 0.95
    assert (res.labels[len(y) :] == -1).all()
    small = fit_hdbscan(X[:300], 0)
    assert small.params["min_cluster_size"] < res.params["min_cluster_size"]


def test_hierarchical_cuts_where_the_silhouette_is_best():
    X, y = blobs(k=5, seed=4, std=0.4)
    res = fit_hierarchical(X, 0)
    assert res.params["n_clusters"] == 5
    scores = res.params["scores"]
    assert max(scores, key=scores.get) == 5
    assert adjusted_rand_score(y, res.labels) >= 0.95


def test_spectral_finds_as_many_near_zero_eigenvalues_as_clusters():
    X, y = make_blobs(
        n_samples=450, centers=[[0, 0, 0], [8, 0, 0], [0, 8, 0]], cluster_std=1.3, random_state=5
    )
    res = fit_spectral(X.astype(np.float32), 0)
    assert res.params["n_clusters"] == 3
    assert adjusted_rand_score(y, res.labels) >= 0.95
    eig = res.params["eigenvalues"]
    assert max(eig[:3]) < 0.05 < eig[3]  # three nearly disconnected groups in the kNN graph


@pytest.mark.parametrize("fit", [fit_density, fit_gmm, fit_hdbscan, fit_hierarchical, fit_spectral])
def test_every_clusterer_is_deterministic_for_a_seed(fit):
    X, _ = blobs(n=150)
    a, b = fit(X, 0), fit(X, 0)
    assert np.array_equal(a.labels, b.labels)
    assert a.labels.dtype.kind == "i" and len(a.labels) == len(X)
