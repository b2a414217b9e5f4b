"""The consensus (co-association, support, down-weighting) and the reduction (landmarks, kNN)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from selflow_qt.analyze.consensus import (
    agreement,
    algorithm_weight,
    build_consensus,
    coassociation,
    evidence_accumulation,
    supporters,
)
from selflow_qt.analyze.reduce import pick_landmarks, place, propagate, reduce_features

TRUTH = np.repeat([0, 1, 2], 20)


def noisy(labels: np.ndarray, flips: int, seed: int) -> np.ndarray:
    out = labels.copy()
    idx = np.random.default_rng(seed).choice(len(out), flips, replace=False)
    out[idx] = (out[idx] + 1) % 3
    return out


def identity_knn(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Every point is its own (only) landmark."""
    return np.arange(m)[:, None].astype(np.int32), np.ones((m, 1), np.float32)


def test_coassociation_is_the_share_of_algorithms_that_pair_two_points():
    a = np.array([0, 0, 1, -1])
    b = np.array([0, 1, 1, 1])
    C = coassociation([a, b])
    assert C[0, 1] == 0.5 and C[1, 2] == 0.5 and C[0, 2] == 0.0
    assert C[3, 3] == 0.5  # noise pairs with nothing, not even itself
    assert coassociation([a, b], [1.0, 0.0])[1, 2] == 0.0


def test_evidence_accumulation_recovers_what_most_algorithms_agree_on():
    votes = [noisy(TRUTH, 4, s) for s in range(5)]
    labels = evidence_accumulation(votes, min_size=5)
    assert adjusted_rand_score(TRUTH, labels) == 1.0


def test_weights_whose_float_sum_overshoots_still_give_a_consensus():
    # float32 rounding made the co-association of an always-paired couple 1 + 1e-7, so
    # 1 - C was negative and the average link refused it ("negative distances")
    labels = [np.array([0, 0, 0, 1, 1, 1])] * 5
    out = evidence_accumulation(labels, 2, [1 / 3] * 5)
    assert out.tolist() == [0, 0, 0, 1, 1, 1] or out.tolist() == [1, 1, 1, 0, 0, 0]


def test_a_collapsed_or_mostly_noise_algorithm_is_down_weighted():
    assert algorithm_weight(np.zeros(10, int)) == (0.0, "collapsed to 1 cluster")
    w, why = algorithm_weight(np.array([0, 1] + [-1] * 8))
    assert w == pytest.approx(0.2) and why.startswith("mostly noise")
    assert algorithm_weight(TRUTH) == (1.0, None)


def test_the_consensus_ignores_a_collapsed_algorithm_and_says_so():
    land = {
        "a": TRUTH.copy(),
        "b": noisy(TRUTH, 3, 1),
        "c": noisy(TRUTH, 3, 2),
        "one": np.zeros(60, int),
    }
    idx, w = identity_knn(60)
    cons = build_consensus(land, land, idx, w, min_support=2)
    assert adjusted_rand_score(TRUTH, cons.labels) == 1.0
    assert cons.weights == {"a": 1.0, "b": 1.0, "c": 1.0, "one": 0.0}
    assert cons.degenerate == {"one": "collapsed to 1 cluster"}
    assert all("one" not in s for s in cons.support.values())
    assert sorted(cons.stable) == [0, 1, 2]


def test_supporters_are_algorithms_with_a_matching_cluster():
    cons = TRUTH
    other = np.where(TRUTH == 2, 1, TRUTH)  # merges clusters 1 and 2
    sup = supporters(cons, {"same": TRUTH, "merged": other})
    assert sup[0] == ["same", "merged"]
    assert sup[1] == ["same", "merged"]  # Jaccard 20/40 = 0.5 still supports
    assert agreement({"x": TRUTH, "y": TRUTH}).ari[0][1] == 1.0


def test_landmarks_are_a_sorted_sample_or_everything():
    assert pick_landmarks(5, 10, 0).tolist() == [0, 1, 2, 3, 4]
    lm = pick_landmarks(1000, 100, 0)
    assert len(lm) == 100 and (np.diff(lm) > 0).all()
    assert np.array_equal(lm, pick_landmarks(1000, 100, 0))


def test_reduce_places_every_point_by_its_nearest_landmarks():
    X, y = make_blobs(n_samples=2000, centers=3, n_features=8, random_state=0)
    red = reduce_features(X.astype(np.float32), n_landmarks=200, seed=0)
    assert red.Z.shape[0] == 2000 and red.space.shape[0] == 200
    assert red.knn_idx.shape == red.knn_w.shape == (2000, 8)
    assert np.allclose(red.knn_w.sum(axis=1), 1.0, atol=1e-5)
    # labels of the landmarks carried to all points by the kNN vote
    labels, conf = propagate(y[red.landmarks], np.ones(200, np.float32), red.knn_idx, red.knn_w)
    assert adjusted_rand_score(y, labels) == 1.0 and conf.min() > 0.5
    xy = place(red.xy[red.landmarks], red.knn_idx, red.knn_w, red.landmarks)
    assert np.array_equal(xy[red.landmarks], red.xy[red.landmarks])


def test_propagate_lets_noise_votes_count():
    idx = np.array([[0, 1, 2]], np.int32)
    w = np.array([[0.5, 0.25, 0.25]], np.float32)
    labels, conf = propagate(np.array([-1, 4, 4]), np.ones(3, np.float32), idx, w)
    assert labels.tolist() == [-1] and conf[0] == pytest.approx(0.5)


def test_stratified_landmarks_keep_a_small_workflow():
    rng = np.random.default_rng(0)
    big = rng.normal(0.0, 1.0, size=(20_000, 4))
    small = rng.normal(12.0, 0.3, size=(60, 4))  # 0.3% of the rows
    Z = np.vstack([big, small]).astype(np.float32)
    uniform = pick_landmarks(len(Z), 600, 0)
    stratified = pick_landmarks(len(Z), 600, 0, Z)
    assert len(stratified) == 600 and len(np.unique(stratified)) == 600
    assert np.count_nonzero(uniform >= 20_000) < 10
    assert np.count_nonzero(stratified >= 20_000) >= 10  # enough for a cluster of its own
