"""One analysis cycle: terms -> workflow units -> reduce -> five clusterers -> consensus -> patterns.

The clusterers and the consensus see workflow units (``analyze.units``: runs of related events
cut on pauses and context changes, described by what was done in them), not single events;
every event inherits its unit's labels. Patterns are named from their events' terms.

A plain function with progress and cancel callbacks, callable from the CLI, a worker or a test;
its stages are the named functions of ``analyze.cycle_stages``. Every stage is timed;
the run, its metrics and each event's assignment are stored; the buffer is
reset at the end (events stay in the database).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from selflow_qt.analyze.consensus import Agreement
from selflow_qt.analyze.cycle_record import run_metrics, scatter_cpu_s, store_assignments
from selflow_qt.analyze.cycle_stages import (
    AlgorithmSummary,
    Clustered,
    Loaded,
    Named,
    Steps,
    cluster_stage,
    load_stage,
    patterns_stage,
    scatter_stage,
)
from selflow_qt.analyze.patterns import PatternSummary
from selflow_qt.analyze.specialize import Decision

__all__ = ["AlgorithmSummary", "CycleResult", "run_cycle"]


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
    """The stages in order (``analyze.cycle_stages``); the 2-D view's child never outlives it."""
    from selflow_qt.analyze import clusterers as registry
    from selflow_qt.analyze.clusterers.runner import warm_up
    from selflow_qt.store.state import reset_buffer

    names = list(registry.REGISTRY) if clusterers is None else clusterers
    s = Steps(progress, should_stop)
    warm_up()
    loaded = load_stage(ctx, run, since, until, s)
    jobs: list = []
    try:
        c = cluster_stage(loaded, names, ctx.settings, s, jobs)
        named = patterns_stage(ctx, run, loaded, c, s)
        xy, projection = scatter_stage(c, loaded.units.of_event, s)
        ids = loaded.table.ids
        store_assignments(ctx.db, run.id, ids, named.labels, named.confidence, xy, c.full_labels)
        run.status = "completed"
        run.completed_at = time.time()
        run.consensus_score = round(c.cons.score, 4)
        s.timed("store")
        run.metrics = run_metrics(c, named, s, projection, len(loaded.units))
        run.save()
        reset_buffer(ctx.db)
        s.step("done", 1.0)
        return _result(run.id, loaded, c, named, s)
    finally:
        for job in jobs:
            job.cancel()  # no-op when it has finished


def _result(run_id: int, loaded: Loaded, c: Clustered, named: Named, s: Steps) -> CycleResult:
    table = loaded.table
    return CycleResult(
        run_id=run_id,
        n_events=len(table),
        algorithms=c.algos,
        agreement=c.agree,
        consensus_score=c.cons.score,
        patterns=named.patterns,
        queued_sessions=[d.session_id for d in named.decisions if d.session_id is not None],
        decisions=named.decisions,
        unstable=named.unstable,
        stages=s.stages,
        reduction=c.reduction,
        cpu_children_s=round(
            sum(float(a.params.get("cpu_s", 0.0)) for a in c.algos.values()) + scatter_cpu_s(c), 3
        ),
        event_ids=table.ids,
        labels=c.full_labels,
        consensus_labels=named.labels,
        truth=table.workflow,
    )
