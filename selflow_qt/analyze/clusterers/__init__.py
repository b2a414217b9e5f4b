"""Five clustering algorithms behind one registry (see base.REGISTRY)."""

from selflow_qt.analyze.clusterers import (  # noqa: F401  (importing registers them)
    density,
    gmm,
    hdbscan_clusterer,
    hierarchical,
    spectral,
)
from selflow_qt.analyze.clusterers.base import (
    REGISTRY,
    LandmarkClusters,
    clusterer_names,
    register,
    unregister,
)

__all__ = ["REGISTRY", "LandmarkClusters", "clusterer_names", "register", "unregister"]
