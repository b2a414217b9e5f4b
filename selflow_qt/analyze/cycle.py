"""One analysis cycle: terms -> workflow units -> reduce -> five clusterers -> consensus -> patterns.

The clusterers and the consensus see workflow units (``analyze.units``: runs of related events
cut on pauses and context changes, described by what was done in them), not single events;
every event inherits its unit's labels. Patterns are named from their events' terms.

A plain function with progress and cancel callbacks, callable from the CLI, a worker or a test.
Every stage is timed; the run, its metrics and each event's assignment are stored; the buffer is
reset at the end (events stay in the database).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from selflow_qt.analyze.clusterers.runner import CycleCancelled
from selflow_qt.analyze.consensus import Agreement
from selflow_qt.analyze.few_units import MIN_EVENTS, MIN_UNITS
from selflow_qt.analyze.patterns import PatternSummary
from selflow_qt.analyze.specialize import Decision
from selflow_qt.store.queries.insights import save_cluster_assignments
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


@dataclass
class CycleResult:
    run_id: int
    n_events: int
    algorithms: dict[str, AlgorithmSummary]
    agreement: Agreement
    consensus_score: float
    patterns: list[PatternSummary]
    queued_sessions: list[int]
    decisions: list[Decision] = field(default_factory=list)
    unstable: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    reduction: str = ""
    cpu_children_s: float = 0.0  # CPU seconds of the clusterer and 2-D view child processes
    # per-event arrays (time order), for callers that score or plot the run
    event_ids: np.ndarray | None = None
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    consensus_labels: np.ndarray | None = None
    truth: list[str | None] = field(default_factory=list)


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def _store_assignments(db, run_id: int, ids, cons, conf, xy, labels: dict[str, np.ndarray]) -> None:
    names = list(labels)
    label_json: list[str] = []
    if names:
        # few distinct label combinations: build each JSON text once
        stacked = np.stack([labels[n] for n in names], axis=1)
        combos, inverse = np.unique(stacked, axis=0, return_inverse=True)
        texts = [
            "{" + ",".join(f'"{n}":{int(v)}' for n, v in zip(names, row, strict=True)) + "}"
            for row in combos
        ]
        label_json = [texts[i] for i in inverse.ravel().tolist()]
    else:
        label_json = ["{}"] * len(ids)
    rows = zip(
        [run_id] * len(ids),
        ids.tolist(),
        cons.tolist(),
        np.round(conf, 4).tolist(),
        np.round(xy[:, 0], 4).tolist(),
        np.round(xy[:, 1], 4).tolist(),
        label_json,
        strict=True,
    )
    save_cluster_assignments(db, rows)


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


def _clusters_and_consensus(
    red, names, table, of_event, settings, should_stop, step, timed, untimed=False
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


def run_cycle(
    ctx,
    *,
    since: float | None = None,
    until: float | None = None,
    trigger: str = "manual",
    progress: Callable[[str, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    clusterers: list[str] | None = None,
) -> CycleResult:
    """Run one cycle on the events of ``ctx`` in [since, until); see the module docstring."""
    from selflow_qt.core.child import pid_alive
    from selflow_qt.store.models import AnalysisRun
    from selflow_qt.store.queries.analysis import fail_interrupted_runs

    fail_interrupted_runs(pid_alive)  # runs a killed analysis process left "running"
    run = AnalysisRun.create(
        status="running", since=since, until=until, trigger=trigger, metrics={"pid": os.getpid()}
    )
    try:
        result = _run(ctx, run, since, until, progress, should_stop, clusterers)
    except BaseException as exc:
        run.status = "failed"
        run.completed_at = time.time()
        run.metrics = {**(run.metrics or {}), "error": f"{type(exc).__name__}: {exc}"}
        run.save()
        raise
    return result


def _run(ctx, run, since, until, progress, should_stop, clusterers) -> CycleResult:
    from selflow_qt.analyze import clusterers as registry
    from selflow_qt.analyze.clusterers.runner import BackgroundJob, warm_up
    from selflow_qt.analyze.dataset import load_events
    from selflow_qt.analyze.features import build_features
    from selflow_qt.analyze.few_units import units_readiness
    from selflow_qt.analyze.patterns import save_patterns
    from selflow_qt.analyze.reduce import (
        place,
        reduce_features,
        umap_available,
        umap_embedding,
    )
    from selflow_qt.analyze.semantics import describe_clusters
    from selflow_qt.analyze.specialize import decide_and_queue
    from selflow_qt.analyze.text import text_vectors
    from selflow_qt.analyze.units import build_units
    from selflow_qt.store.state import reset_buffer

    settings = ctx.settings
    stages: dict[str, float] = {}
    names = list(registry.REGISTRY) if clusterers is None else clusterers

    def step(name: str, frac: float) -> None:
        if should_stop is not None and should_stop():
            raise CycleCancelled("analysis cancelled")
        if progress is not None:
            progress(name, frac)

    mark = time.perf_counter()

    def timed(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages[name] = round(now - mark, 3)
        mark = now

    warm_up()
    step("load", 0.0)
    table = load_events(ctx.db, since, until)
    timed("load")
    if len(table) < MIN_EVENTS:
        raise ValueError(f"only {len(table)} events to analyse (at least {MIN_EVENTS} needed)")
    run.n_events = len(table)
    run.save()
    step("features", 0.05)
    fs = build_features(table, seed=SEED, matrix=False)
    units = build_units(table.ids, table.ts, fs.inverse, fs.signature_tokens, table.cmd, seed=SEED)
    if settings.analysis_text_embeddings:
        tv = text_vectors(fs.signature_tokens, ctx.data_dir)
        if tv is not None:  # each unit also gets the mean text vector of its events
            units = units.with_text(tv[fs.inverse])
    of_event = units.of_event
    few = len(units) < MIN_UNITS
    if few:  # too few units to split: group them by similarity (analyze.few_units)
        ready = units_readiness(units, fs.inverse, settings.incremental_min_events)
        if not ready.ok:
            raise ValueError(f"{ready.reason} in {len(table)} events")
    timed("features")
    scatter_job = None
    try:
        if few:
            step("cluster", 0.3)
            algos, full_labels, cons, agree, xy_units, reduction = _few(units, fs.inverse, settings)
            land_count = len(units)
            timed("cluster")
        else:
            step("reduce", 0.15)
            red = reduce_features(
                units.vectors,
                n_landmarks=settings.analysis_landmarks,
                seed=SEED,
                umap=settings.analysis_umap,
            )
            timed("reduce")
            if settings.analysis_umap in ("scatter", "cluster") and umap_available():
                # the 2-D view does not change the clusters: compute it while the clusterers run
                scatter_job = BackgroundJob(umap_embedding, red.Z[red.landmarks], 2, SEED)
            algos, full_labels, cons, agree = _clusters_and_consensus(
                red,
                names,
                table,
                of_event,
                settings,
                should_stop,
                step,
                timed,
                untimed=units.mostly_untimed(),
            )
            xy_units, reduction, land_count = red.xy, red.method, len(red.landmarks)
        for name, w in cons.weights.items():
            algos[name].weight = w
            algos[name].note = algos[name].note or cons.degenerate.get(name)
            if algos[name].note:
                log.info("clusterer %s: %s", name, algos[name].note)
        cons_labels = cons.labels[of_event]  # events inherit their unit's pattern
        cons_conf = cons.confidence[of_event]
        timed("consensus")
        step("semantics", 0.85)
        profiles = describe_clusters(
            table,
            fs,
            cons_labels,
            cons_conf,
            support=cons.support,
            n_algorithms=len(full_labels),
        )
        stable = [profiles[c] for c in cons.stable if c in profiles]
        unstable = [
            {
                "label": p.label,
                "name": p.name,
                "event_count": p.event_count,
                "support": len(p.supporters),
            }
            for c, p in profiles.items()
            if c not in cons.stable
        ]
        timed("semantics")
        step("patterns", 0.9)
        patterns = save_patterns(ctx.db, stable, run_id=run.id, method="consensus")
        decisions = decide_and_queue(
            ctx.db,
            table,
            cons_labels,
            fs,
            patterns,
            min_sequences=settings.specialize_min_sequences,
            max_models=settings.max_models,
        )
        timed("patterns")
        step("store", 0.95)
        xy, projection = xy_units[of_event], reduction
        if scatter_job is not None:
            xy_l, err = scatter_job.result(SCATTER_TIMEOUT_S)
            if xy_l is not None:
                xy_u = place(xy_l, red.knn_idx, red.knn_w, red.landmarks)
                xy, projection = xy_u[of_event], "umap"
            else:
                log.warning("2-D UMAP failed (%s); the scatter uses PCA", err)
        timed("scatter")
        _store_assignments(ctx.db, run.id, table.ids, cons_labels, cons_conf, xy, full_labels)
        run.status = "completed"
        run.completed_at = time.time()
        run.consensus_score = round(cons.score, 4)
        timed("store")
        run.metrics = {
            "algorithms": {
                n: {
                    "clusters": a.clusters,
                    "silhouette": a.silhouette,
                    "runtime_s": a.runtime_s,
                    "params": json.loads(json.dumps(a.params, default=str)),
                    "error": a.error,
                    "note": a.note,
                    "weight": a.weight,
                }
                for n, a in algos.items()
            },
            "agreement": agree.as_dict(),
            "stages": stages,
            "reduction": reduction,
            "projection": projection,
            "scatter_cpu_s": round(scatter_job.cpu_s, 3) if scatter_job is not None else 0.0,
            "landmarks": int(land_count),
            "units": int(len(units)),
            "consensus": {
                "method": cons.method,
                "attached": cons.attached,
                "per_algorithm_ari": {k: round(v, 4) for k, v in cons.per_algorithm_ari.items()},
                "min_support": cons.min_support,
                "clusters": {str(c): s for c, s in cons.support.items()},
            },
            "patterns": [p.pattern_id for p in patterns],
            "unstable": unstable,
        }
        run.save()
        reset_buffer(ctx.db)
        step("done", 1.0)
        return CycleResult(
            run_id=run.id,
            n_events=len(table),
            algorithms=algos,
            agreement=agree,
            consensus_score=cons.score,
            patterns=patterns,
            queued_sessions=[d.session_id for d in decisions if d.session_id is not None],
            decisions=decisions,
            unstable=unstable,
            stages=stages,
            reduction=reduction,
            cpu_children_s=round(
                sum(float(a.params.get("cpu_s", 0.0)) for a in algos.values())
                + (scatter_job.cpu_s if scatter_job is not None else 0.0),
                3,
            ),
            event_ids=table.ids,
            labels=full_labels,
            consensus_labels=cons_labels,
            truth=table.workflow,
        )
    finally:
        if scatter_job is not None:
            scatter_job.cancel()  # no-op when it has finished
