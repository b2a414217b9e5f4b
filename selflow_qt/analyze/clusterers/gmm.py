"""Gaussian mixture: components at the knee of the BIC curve over 2..12; confidence = posterior.

Activity clusters are not Gaussian, so raw BIC keeps adding components; the knee (kneedle) of
the BIC curve is where extra components stop paying for themselves.
"""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze.clusterers.base import (
    LandmarkClusters,
    knee_index,
    register,
    relabel_by_size,
)

K_RANGE = range(2, 13)


def fit_gmm(X: np.ndarray, seed: int) -> LandmarkClusters:
    from sklearn.mixture import GaussianMixture

    models, bics = [], {}
    for k in K_RANGE:
        if k >= len(X):
            break
        gm = GaussianMixture(
            n_components=k, covariance_type="full", random_state=seed, reg_covar=1e-4
        ).fit(X)
        bics[k] = round(float(gm.bic(X)), 1)
        models.append(gm)
    if not models:
        return LandmarkClusters(np.zeros(len(X), np.int32), np.ones(len(X), np.float32), {})
    best = models[knee_index(list(bics.values()))]
    proba = best.predict_proba(X)
    labels = relabel_by_size(proba.argmax(axis=1))
    return LandmarkClusters(
        labels,
        proba.max(axis=1).astype(np.float32),
        {"n_components": int(best.n_components), "criterion": "BIC knee", "bic": bics},
    )


register("gmm", fit_gmm)
