"""The analysis cycle's stages, in the order ``cycle.run_cycle`` runs them: load and describe the
events as workflow units, cluster them (the five clusterers and their consensus, or few units
grouped by similarity), name the stable clusters as patterns and queue their training, place
them on the 2-D view (``cycle_record`` then stores the run)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from selflow_qt.analyze.clusterers.runner import CycleCancelled
from selflow_qt.analyze.few_units import MIN_EVENTS, MIN_UNITS
from selflow_qt.store.queries.tray import FEW_UNITS

log = logging.getLogger(__name__)
AGREEMENT_SAMPLE = 100_000
SCATTER_TIMEOUT_S = 30.0  # the 2-D UMAP view (from its start); past it the view falls back to PCA
SEED = 0


@dataclass
class AlgorithmSummary:
    clusters: int
    silhouette: float | None
    runtime_s: float
    params: dict[str, Any]
    error: str | None = None
    note: str | None = None  # why the consensus down-weighted it (collapsed, mostly noise)
    weight: float = 1.0  # its vote in the consensus


class Steps:
    """The cycle's progress reports, cancel checkpoints and stage timings."""

    def __init__(self, progress, should_stop) -> None:
        self.progress = progress
        self.should_stop = should_stop
        self.stages: dict[str, float] = {}
        self._mark = time.perf_counter()

    def step(self, name: str, frac: float) -> None:
        if self.should_stop is not None and self.should_stop():
            raise CycleCancelled("analysis cancelled")
        if self.progress is not None:
            self.progress(name, frac)

    def timed(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = round(now - self._mark, 3)
        self._mark = now


@dataclass
class Loaded:
    """The events, their features and their workflow units."""

    table: Any
    fs: Any
    units: Any
    few: bool  # too few units for the clusterers (analyze.few_units groups them)


@dataclass
class Clustered:
    algos: dict[str, AlgorithmSummary]
    full_labels: dict[str, np.ndarray]  # every event (its unit's label), per clusterer
    cons: Any  # the consensus
    agree: Any
    xy_units: np.ndarray
    reduction: str
    land_count: int
    red: Any = None  # the reduction (None for few units)
    jobs: list = field(default_factory=list)  # the 2-D view's child, when it was started


def load_stage(ctx, run, since, until, s: Steps) -> Loaded:
    from selflow_qt.analyze.dataset import load_events
    from selflow_qt.analyze.features import build_features
    from selflow_qt.analyze.few_units import units_readiness
    from selflow_qt.analyze.text import text_vectors
    from selflow_qt.analyze.units import build_units

    s.step("load", 0.0)
    table = load_events(ctx.db, since, until)
    s.timed("load")
    if len(table) < MIN_EVENTS:
        raise ValueError(f"only {len(table)} events to analyse (at least {MIN_EVENTS} needed)")
    run.n_events = len(table)
    run.save()
    s.step("features", 0.05)
    fs = build_features(table, seed=SEED, matrix=False)
    units = build_units(table.ids, table.ts, fs.inverse, fs.signature_tokens, table.cmd, seed=SEED)
    if ctx.settings.analysis_text_embeddings:
        tv = text_vectors(fs.signature_tokens, ctx.data_dir)
        if tv is not None:  # each unit also gets the mean text vector of its events
            units = units.with_text(tv[fs.inverse])
    few = len(units) < MIN_UNITS
    if few:  # too few units to split: group them by similarity (analyze.few_units)
        ready = units_readiness(units, fs.inverse, ctx.settings.incremental_min_events)
        if not ready.ok:
            raise ValueError(f"{ready.reason} in {len(table)} events")
    s.timed("features")
    return Loaded(table, fs, units, few)


def cluster_stage(loaded: Loaded, names: list[str], settings, s: Steps, jobs: list) -> Clustered:
    """Few units grouped, or: reduce, the 2-D view started beside, clusterers and consensus."""
    from selflow_qt.analyze.clusterers.runner import BackgroundJob
    from selflow_qt.analyze.families import split_consensus
    from selflow_qt.analyze.reduce import reduce_features, umap_available, umap_embedding

    units = loaded.units
    if loaded.few:
        s.step("cluster", 0.3)
        algos, full, cons, agree, xy_units, reduction = _few(units, loaded.fs.inverse, settings)
        s.timed("cluster")
        out = Clustered(algos, full, cons, agree, xy_units, reduction, len(units))
    else:
        s.step("reduce", 0.15)
        red = reduce_features(
            units.vectors,
            n_landmarks=settings.analysis_landmarks,
            seed=SEED,
            umap=settings.analysis_umap,
        )
        s.timed("reduce")
        if settings.analysis_umap in ("scatter", "cluster") and umap_available():
            # the 2-D view does not change the clusters: compute it while the clusterers run
            jobs.append(BackgroundJob(umap_embedding, red.Z[red.landmarks], 2, SEED))
        algos, full, cons, agree = clusters_and_consensus(
            red,
            names,
            loaded.table,
            units.of_event,
            settings,
            s.should_stop,
            s.step,
            s.timed,
            untimed=units.mostly_untimed(),
        )
        if units.mostly_untimed():  # a pattern holding two tool families is two patterns
            cons = split_consensus(
                cons, units.of_event, loaded.fs.inverse, loaded.fs.signature_tokens, red.landmarks
            )
        out = Clustered(algos, full, cons, agree, red.xy, red.method, len(red.landmarks), red)
    out.jobs = jobs
    for name, w in cons.weights.items():
        algos[name].weight = w
        algos[name].note = algos[name].note or cons.degenerate.get(name)
        if algos[name].note:
            log.info("clusterer %s: %s", name, algos[name].note)
    s.timed("consensus")
    return out


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


@dataclass
class Named:
    """The consensus per event, the patterns it named and the trainings it queued."""

    labels: np.ndarray
    confidence: np.ndarray
    patterns: list
    decisions: list
    unstable: list[dict[str, Any]]


def patterns_stage(ctx, run, loaded: Loaded, c: Clustered, s: Steps) -> Named:
    """Describe the consensus clusters, save the stable ones as patterns, queue trainings."""
    from selflow_qt.analyze.patterns import save_patterns
    from selflow_qt.analyze.semantics import describe_clusters
    from selflow_qt.analyze.specialize import decide_and_queue

    of_event, cons = loaded.units.of_event, c.cons
    labels = cons.labels[of_event]  # events inherit their unit's pattern
    confidence = cons.confidence[of_event]
    s.step("semantics", 0.85)
    profiles = describe_clusters(
        loaded.table,
        loaded.fs,
        labels,
        confidence,
        support=cons.support,
        n_algorithms=len(c.full_labels),
    )
    stable = [profiles[k] for k in cons.stable if k in profiles]
    unstable = [
        {
            "label": p.label,
            "name": p.name,
            "event_count": p.event_count,
            "support": len(p.supporters),
        }
        for k, p in profiles.items()
        if k not in cons.stable
    ]
    s.timed("semantics")
    s.step("patterns", 0.9)
    patterns = save_patterns(ctx.db, stable, run_id=run.id, method="consensus")
    decisions = decide_and_queue(
        ctx.db,
        loaded.table,
        labels,
        loaded.fs,
        patterns,
        min_sequences=ctx.settings.specialize_min_sequences,
        max_models=ctx.settings.max_models,
    )
    s.timed("patterns")
    return Named(labels, confidence, patterns, decisions, unstable)


def scatter_stage(c: Clustered, of_event: np.ndarray, s: Steps) -> tuple[np.ndarray, str]:
    """Each event's place on the 2-D view: the UMAP view if it finished in time, else PCA's."""
    from selflow_qt.analyze.reduce import place

    s.step("store", 0.95)
    xy, projection = c.xy_units[of_event], c.reduction
    if c.jobs:
        xy_l, err = c.jobs[0].result(SCATTER_TIMEOUT_S)
        if xy_l is not None:
            xy_u = place(xy_l, c.red.knn_idx, c.red.knn_w, c.red.landmarks)
            xy, projection = xy_u[of_event], "umap"
        else:
            log.warning("2-D UMAP failed (%s); the scatter uses PCA", err)
    s.timed("scatter")
    return xy, projection


def _cluster(red, names, settings, should_stop, on_done):
    from selflow_qt.analyze.clusterers.runner import run_clusterers

    return run_clusterers(
        red.space,
        names,
        seed=SEED,
        timeout_s=settings.analysis_algorithm_timeout_s,
        should_stop=should_stop,
        on_done=on_done,
    )


def clusters_and_consensus(
    red,
    names,
    table,
    of_event,
    settings,
    should_stop,
    step: Callable,
    timed: Callable,
    untimed=False,
):
    """The five clusterers on the units' landmarks, their agreement and their consensus
    (``untimed``: units of untimed history, see ``consensus.build_consensus``'s ``space``)."""
    from selflow_qt.analyze.clusterers.base import silhouette_sample
    from selflow_qt.analyze.consensus import agreement, build_consensus
    from selflow_qt.analyze.reduce import propagate

    step("cluster", 0.3)
    done = [0]

    def on_done(_run) -> None:
        done[0] += 1
        step(f"cluster:{_run.name}", 0.3 + 0.4 * done[0] / max(len(names), 1))

    runs = _cluster(red, names, settings, should_stop, on_done)
    timed("cluster")
    algos: dict[str, AlgorithmSummary] = {}
    land_labels: dict[str, np.ndarray] = {}
    unit_labels: dict[str, np.ndarray] = {}  # every unit
    full_labels: dict[str, np.ndarray] = {}  # every event (its unit's label)
    for name, r in runs.items():
        if r.result is None:
            algos[name] = AlgorithmSummary(0, None, round(r.runtime_s, 3), {}, r.error)
            log.warning("clusterer %s failed: %s", name, (r.error or "").splitlines()[0])
            continue
        lab, conf = propagate(r.result.labels, r.result.confidence, red.knn_idx, red.knn_w)
        land_labels[name], unit_labels[name] = r.result.labels, lab
        full_labels[name] = lab[of_event]
        algos[name] = AlgorithmSummary(
            clusters=int(len(np.unique(r.result.labels[r.result.labels >= 0]))),
            silhouette=_finite(silhouette_sample(red.space, r.result.labels, SEED)),
            runtime_s=round(r.runtime_s, 3),
            params=r.result.params,
        )
    if not land_labels:
        raise RuntimeError(
            "every clusterer failed: " + "; ".join(f"{n}: {a.error}" for n, a in algos.items())
        )
    timed("propagate")
    step("consensus", 0.75)
    # pairwise ARI/NMI of the algorithms: on a fixed sample of events past AGREEMENT_SAMPLE
    # (ten pairs of ARI and NMI over 1M events took ~10 s; a 100K sample estimates them)
    picked = (
        np.sort(np.random.default_rng(SEED).choice(len(table), AGREEMENT_SAMPLE, replace=False))
        if len(table) > AGREEMENT_SAMPLE
        else slice(None)
    )
    agree = agreement({n: lab[picked] for n, lab in full_labels.items()})
    cons = build_consensus(
        land_labels,
        unit_labels,
        red.knn_idx,
        red.knn_w,
        min_support=settings.analysis_min_support,
        space=red.space if untimed else None,
        order=red.landmarks if untimed else None,  # units are numbered in arrival order
    )
    return algos, full_labels, cons, agree


def _few(units, inverse, settings):
    """Few units: grouped by similarity (``analyze.few_units``), in the clusterers' shapes."""
    from selflow_qt.analyze.consensus import agreement
    from selflow_qt.analyze.few_units import METHOD, as_consensus, few_unit_groups, unit_xy

    t0 = time.perf_counter()
    groups = few_unit_groups(units, inverse, settings.incremental_min_events)
    cons = as_consensus(groups, units.of_event)
    labels = groups.unit_labels[units.of_event]
    algos = {
        METHOD: AlgorithmSummary(
            clusters=len(groups.patterns),
            silhouette=None,
            runtime_s=round(time.perf_counter() - t0, 3),
            params={"units": len(units), "groups": groups.groups, "min_units": MIN_UNITS},
            note=f"{len(units)} workflow units: too few for the clusterers (at least "
            f"{MIN_UNITS}); units grouped by similarity, a group with "
            f"{settings.incremental_min_events} varied events is a pattern",
        )
    }
    full = {METHOD: labels}
    return algos, full, cons, agreement(full), unit_xy(units.vectors), FEW_UNITS
