"""Gaussian mixture: components chosen by BIC over 2..12; confidence = posterior probability."""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import LandmarkClusters, register, relabel_by_size

K_RANGE = range(2, 13)


def fit_gmm(X: np.ndarray, seed: int) -> LandmarkClusters:
    from sklearn.mixture import GaussianMixture

    best, best_bic, bics = None, np.inf, {}
    for k in K_RANGE:
        if k >= len(X):
            break
        gm = GaussianMixture(
            n_components=k, covariance_type="full", random_state=seed, reg_covar=1e-4
        ).fit(X)
        bic = float(gm.bic(X))
        bics[k] = round(bic, 1)
        if bic < best_bic:
            best, best_bic = gm, bic
    if best is None:
        return LandmarkClusters(np.zeros(len(X), np.int32), np.ones(len(X), np.float32), {})
    proba = best.predict_proba(X)
    labels = relabel_by_size(proba.argmax(axis=1))
    return LandmarkClusters(
        labels,
        proba.max(axis=1).astype(np.float32),
        {"n_components": int(best.n_components), "criterion": "BIC", "bic": bics},
    )


register("gmm", fit_gmm)
