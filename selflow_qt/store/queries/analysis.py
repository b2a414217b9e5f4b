"""Read models of the analysis for the UI (no heavy imports at module level)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from peewee import SqliteDatabase

if TYPE_CHECKING:
    import numpy as np


def any_completed_run() -> bool:
    """Whether an analysis cycle has ever completed."""
    from selflow_qt.store.models import AnalysisRun

    return AnalysisRun.select().where(AnalysisRun.status == "completed").exists()


@dataclass
class AutomaticRun:
    """The latest cycle the trigger started on the current buffer."""

    status: str
    n_events: int
    error: str


def last_automatic_run(since: float) -> AutomaticRun | None:
    """The latest cycle the trigger (``budget``) started at or after ``since``."""
    from selflow_qt.store.models import AnalysisRun

    last = (
        AnalysisRun.select()
        .where(AnalysisRun.trigger == "budget", AnalysisRun.started_at >= since)
        .order_by(AnalysisRun.id.desc())
        .first()
    )
    if last is None:
        return None
    return AutomaticRun(
        last.status, int(last.n_events or 0), str((last.metrics or {}).get("error", ""))
    )


def store_signature(db: SqliteDatabase) -> tuple:
    """(last event id, analysis runs, last pattern id, patterns): changes when anything the
    analysis checks read has changed."""
    return tuple(
        db.execute_sql(
            "SELECT (SELECT max(id) FROM events), (SELECT count(*) FROM analysis_runs), "
            "(SELECT max(id) FROM patterns), (SELECT count(*) FROM patterns)"
        ).fetchone()
    )


def latest_patterns_by_event(db: SqliteDatabase) -> dict[int, dict] | None:
    """event id -> {"id", "name"} of its pattern in the latest completed analysis cycle; None
    before the first one.

    Events the cycle left in noise, in an unstable cluster or did not see are absent.
    """
    row = db.execute_sql(
        "SELECT id FROM analysis_runs WHERE status = 'completed' "
        "ORDER BY completed_at DESC, id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    run = int(row[0])
    patterns = db.execute_sql(
        "SELECT id, name, json_extract(metadata, '$.cluster_label') FROM patterns "
        "WHERE json_extract(metadata, '$.last_run_id') = ?",
        (run,),
    ).fetchall()
    by_label = {
        int(label): {"id": int(pid), "name": name}
        for pid, name, label in patterns
        if label is not None
    }
    if not by_label:
        return {}
    labels = db.execute_sql(
        "SELECT event_id, consensus FROM cluster_assignments WHERE run = ?", (run,)
    ).fetchall()
    return {
        int(eid): by_label[int(lab)]
        for eid, lab in labels
        if lab is not None and int(lab) in by_label
    }


@dataclass
class Projection:
    run_id: int
    event_ids: np.ndarray  # int64
    xy: np.ndarray  # float32 (n, 2)
    consensus: np.ndarray  # int32
    per_algorithm: dict[str, np.ndarray] = field(default_factory=dict)
    cluster_names: dict[int, str] = field(default_factory=dict)
    cluster_terms: dict[int, list[str]] = field(default_factory=dict)


def latest_run(db: SqliteDatabase):
    """The newest completed AnalysisRun, or None."""
    from selflow_qt.store.models import AnalysisRun

    return (
        AnalysisRun.select()
        .where(AnalysisRun.status == "completed")
        .order_by(AnalysisRun.id.desc())
        .first()
    )


def _patterns_of_run(db: SqliteDatabase, run_id: int) -> list[tuple[int, str, dict]]:
    rows = db.execute_sql("SELECT id, name, metadata FROM patterns").fetchall()
    out = []
    for pid, name, meta in rows:
        m = json.loads(meta) if isinstance(meta, str) else (meta or {})
        if m.get("last_run_id") == run_id:
            out.append((pid, name, m))
    return out


def latest_projection(db: SqliteDatabase, max_points: int = 50_000) -> Projection | None:
    """The newest run's 2-D points (an even sample when there are more than ``max_points``)."""
    import numpy as np

    run = latest_run(db)
    if run is None:
        return None
    n = db.execute_sql(
        "SELECT count(*) FROM cluster_assignments WHERE run = ?", (run.id,)
    ).fetchone()[0]
    step = max(1, -(-n // max_points))
    rows = db.execute_sql(
        "SELECT event_id, x, y, consensus, labels FROM cluster_assignments WHERE run = ? "
        "AND (id % ?) = 0 ORDER BY id",
        (run.id, step),
    ).fetchall()
    per: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        for k, v in json.loads(r[4]).items():
            per.setdefault(k, [-1] * len(rows))[i] = v
    names: dict[int, str] = {}
    terms: dict[int, list[str]] = {}
    for _pid, name, m in _patterns_of_run(db, run.id):
        label = int(m.get("cluster_label", -1))
        names[label] = name
        terms[label] = list(m.get("top_terms", []))
    for u in (run.metrics or {}).get("unstable", []):
        names.setdefault(int(u["label"]), f"{u['name']} (unstable)")
    return Projection(
        run_id=run.id,
        event_ids=np.array([r[0] for r in rows], dtype=np.int64),
        xy=np.array([(r[1], r[2]) for r in rows], dtype=np.float32).reshape(-1, 2),
        consensus=np.array([r[3] for r in rows], dtype=np.int32),
        per_algorithm={k: np.array(v, dtype=np.int32) for k, v in per.items()},
        cluster_names=names,
        cluster_terms=terms,
    )


def pattern_event_ids(db: SqliteDatabase, pattern_id: int) -> list[int]:
    """Event ids of a pattern in the latest run that matched it (empty if none did)."""
    row = db.execute_sql("SELECT metadata FROM patterns WHERE id = ?", (pattern_id,)).fetchone()
    if row is None:
        return []
    m = json.loads(row[0]) if isinstance(row[0], str) else (row[0] or {})
    run_id, label = m.get("last_run_id"), m.get("cluster_label")
    if run_id is None or label is None:
        return []
    return [
        r[0]
        for r in db.execute_sql(
            "SELECT event_id FROM cluster_assignments WHERE run = ? AND consensus = ? ORDER BY event_id",
            (run_id, label),
        ).fetchall()
    ]


def runs_history(db: SqliteDatabase) -> list[dict]:
    """Per completed run: id, started_at, n_events, consensus_score, n_patterns."""
    from selflow_qt.store.models import AnalysisRun
    from selflow_qt.store.queries.tray import consensus_score_of

    out = []
    for run in (
        AnalysisRun.select().where(AnalysisRun.status == "completed").order_by(AnalysisRun.id)
    ):
        out.append(
            {
                "run_id": run.id,
                "started_at": run.started_at,
                "n_events": run.n_events,
                "consensus_score": consensus_score_of(run.consensus_score, run.metrics),
                "n_patterns": len((run.metrics or {}).get("patterns", [])),
            }
        )
    return out


def fail_interrupted_runs(alive) -> int:
    """Record as failed the runs left "running" by an analysis process that is gone (killed,
    crashed, power lost): ``alive(pid)`` says whether the pid stored with a run still runs.
    Returns how many were marked."""
    import time

    from selflow_qt.store.models import AnalysisRun

    marked = 0
    for run in AnalysisRun.select().where(AnalysisRun.status == "running"):
        pid = (run.metrics or {}).get("pid")
        if isinstance(pid, int) and alive(pid):
            continue
        run.status = "failed"
        run.completed_at = run.completed_at or time.time()
        run.metrics = {
            **(run.metrics or {}),
            "error": "interrupted: the analysis process ended before the run finished",
        }
        run.save()
        marked += 1
    return marked
