"""Each clusterer on its own, and the runner's failure isolation (raise, time out)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from selflow_qt.analyze.clusterers import REGISTRY, LandmarkClusters, register, unregister
from selflow_qt.analyze.clusterers.runner import run_clusterers

NAMES = ["hdbscan", "spectral", "gmm", "density", "hierarchical"]


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(
        n_samples=1500,
        centers=4,
        n_features=5,
        cluster_std=0.6,
        center_box=(-12, 12),
        random_state=3,
    )
    return X.astype(np.float32), y


@pytest.mark.parametrize("name", NAMES)
def test_clusterer_finds_the_blobs(name, blobs):
    X, y = blobs
    res = REGISTRY[name](X, 0)
    assert isinstance(res, LandmarkClusters)
    found = set(res.labels[res.labels >= 0].tolist())
    assert len(found) == 4, f"{name} found {len(found)} clusters ({res.params})"
    assert adjusted_rand_score(y, res.labels) >= 0.95
    assert res.confidence.shape == (len(X),)
    assert 0 <= res.confidence.min() and res.confidence.max() <= 1
    assert res.params


@pytest.fixture
def faulty(monkeypatch):
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    sys.modules.pop("faulty_clusterers", None)
    import faulty_clusterers

    register("boom", faulty_clusterers.boom)
    register("sleepy", faulty_clusterers.sleepy)
    yield
    unregister("boom")
    unregister("sleepy")


@pytest.mark.timeout(120)
def test_runner_records_a_raise_and_a_timeout_and_runs_the_others(faulty, blobs):
    X, _ = blobs
    runs = run_clusterers(X, ["boom", "sleepy", "gmm", "hdbscan"], timeout_s=5.0)
    assert "RuntimeError: this clusterer always fails" in runs["boom"].error
    assert runs["sleepy"].error == "timed out after 5 s"
    assert 5.0 <= runs["sleepy"].runtime_s < 20.0
    for name in ("gmm", "hdbscan"):
        assert runs[name].error is None and runs[name].result is not None


@pytest.mark.timeout(180)
def test_cycle_completes_when_clusterers_fail(faulty, tmp_path, open_demo):
    from selflow_qt.analyze.cycle import run_cycle
    from selflow_qt.store.models import AnalysisRun

    ctx = open_demo(tmp_path, days=2, events_per_day=1500)
    # The cycle waits this long for 'sleepy'; the real clusterers end in ~1-2 s from their
    # start even at load 8 (fits: hdbscan 0.1 s, gmm 0.4 s, hierarchical 0.1 s).
    ctx.settings.analysis_algorithm_timeout_s = 8.0
    res = run_cycle(ctx, clusterers=["hdbscan", "boom", "gmm", "sleepy", "hierarchical"])
    assert "always fails" in res.algorithms["boom"].error
    assert "timed out" in res.algorithms["sleepy"].error
    assert res.patterns
    run = AnalysisRun.get_by_id(res.run_id)
    assert run.status == "completed"
    assert "timed out" in run.metrics["algorithms"]["sleepy"]["error"]
    assert res.agreement.names == ["hdbscan", "gmm", "hierarchical"]
    ctx.close()


@pytest.mark.timeout(120)
def test_a_cancelled_cycle_stops_and_is_recorded_as_failed(tmp_path, open_demo):
    from selflow_qt.analyze.clusterers.runner import CycleCancelled
    from selflow_qt.analyze.cycle import run_cycle
    from selflow_qt.store.models import AnalysisRun

    ctx = open_demo(tmp_path, days=1, events_per_day=1000)
    seen: list[str] = []
    with pytest.raises(CycleCancelled):
        run_cycle(
            ctx,
            progress=lambda stage, frac: seen.append(stage),
            should_stop=lambda: "cluster" in seen,
        )
    run = AnalysisRun.select().order_by(AnalysisRun.id.desc()).first()
    assert run.status == "failed" and "cancelled" in run.metrics["error"]
    assert "patterns" not in seen
    ctx.close()
