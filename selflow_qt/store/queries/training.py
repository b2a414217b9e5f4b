"""Read models for the Training Center: the buffer, the training queue, the latest clustering.

No Qt: these run on a Worker with their own connection (see ``read_with``). The rankings and the
Training Center's whole read live in ``agents.serving.leaderboard``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from peewee import SqliteDatabase

from selflow_qt.core.settings import Settings
from selflow_qt.core.wording import ALL_ACTIVITY
from selflow_qt.store.db import connect, db_path_for
from selflow_qt.store.models import TrainingSession
from selflow_qt.store.queries.analysis import latest_run
from selflow_qt.store.queries.tray import consensus_score_of
from selflow_qt.store.state import buffer_fill

T = TypeVar("T")
# The "recent" fill rate: bytes of events in the last hour, else day, else week.
RATE_WINDOWS = ((3600.0, "hour"), (86_400.0, "day"), (7 * 86_400.0, "7 days"))


def read_with(data_dir: Path, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(db, *args)`` on a fresh read connection (for worker threads), then close it.

    No ``**kwargs`` on purpose: a Worker would pass its progress hooks into it.
    """
    db = connect(db_path_for(data_dir))
    try:
        return fn(db, *args)
    finally:
        db.close()


@dataclass
class BufferView:
    """The data buffer and when the next analysis cycle is expected."""

    bytes: int
    events: int
    budget_bytes: int
    target_ratio: float
    rate_bytes_per_s: float  # recent fill rate; 0 when unknown
    eta_s: float | None  # None: no recent data, cannot tell
    rate_window: str = ""  # the window the rate was measured over ("hour", "day", "7 days")

    @property
    def percent(self) -> float:
        return 100.0 * self.bytes / self.budget_bytes if self.budget_bytes else 0.0


@dataclass
class QueuedSession:
    session_id: int
    model_id: str
    status: str
    pattern_name: str
    reason: str
    sequences: int
    started_at: float | None
    pattern_id: int | None = None  # the pattern it trains for (None: all activity)
    model: dict | None = (
        None  # what the language model added (agents.training.model_verdict.model_record)
    )
    wall_s: float | None = None  # how long a finished training took, start to saved
    losses: list[float] | None = None  # a finished training's loss per step
    val_points: list[tuple[int, float]] | None = None  # and its validation losses (step, loss)


@dataclass
class AlgorithmRow:
    name: str
    clusters: int | None
    silhouette: float | None
    runtime_s: float | None
    error: str = ""


@dataclass
class ClusteringSummary:
    run_id: int
    started_at: float
    n_events: int
    consensus_score: float | None  # None: one method grouped (few workflow units)
    n_patterns: int
    algorithms: list[AlgorithmRow]


def buffer_view(db: SqliteDatabase, settings: Settings, now: float | None = None) -> BufferView:
    """Fill of the buffer and the time to the next cycle at the recent fill rate."""
    now = time.time() if now is None else now
    fill = buffer_fill(db, settings.budget_bytes)
    rate, window = 0.0, ""
    for seconds, name in RATE_WINDOWS:
        recent = db.execute_sql(
            "SELECT coalesce(sum(size), 0) FROM events WHERE ts >= ? AND ts <= ?",
            (now - seconds, now),
        ).fetchone()[0]
        if recent > 0:
            rate, window = recent / seconds, name
            break
    target = settings.trigger_fill_ratio * settings.budget_bytes
    remaining = max(0.0, target - fill.bytes)
    eta = remaining / rate if rate > 0 else (0.0 if remaining == 0 else None)
    return BufferView(
        fill.bytes,
        fill.events,
        settings.budget_bytes,
        settings.trigger_fill_ratio,
        rate,
        eta,
        window,
    )


def _session(row) -> QueuedSession:
    sid, model_id, status, meta, started = row
    try:
        m = json.loads(meta) if isinstance(meta, str) else (meta or {})
    except json.JSONDecodeError:
        m = {}
    seqs = m.get("sequences", 0)
    return QueuedSession(
        session_id=int(sid),
        model_id=model_id,
        status=status,
        pattern_name=str(m.get("pattern_name") or m.get("pattern_id") or ALL_ACTIVITY),
        reason=str(m.get("reason") or ""),
        sequences=len(seqs) if isinstance(seqs, list) else int(seqs or 0),
        started_at=started,
        pattern_id=int(m["pattern_id"]) if isinstance(m.get("pattern_id"), int) else None,
        model=m.get("lm") if isinstance(m.get("lm"), dict) else None,
        wall_s=_wall_seconds(m.get("training")),
        **_curve(m.get("training")),
    )


def _curve(training) -> dict:
    """A finished training's recorded curve (train_child.training_report), checked."""
    curve = training.get("curve") if isinstance(training, dict) else None
    if not isinstance(curve, dict):
        return {}
    loss, val = curve.get("loss"), curve.get("val")
    try:
        return {
            "losses": [float(x) for x in loss] if isinstance(loss, list) else None,
            "val_points": [(int(s), float(v)) for s, v in val] if isinstance(val, list) else None,
        }
    except (TypeError, ValueError):
        return {}


def _wall_seconds(training) -> float | None:
    wall = training.get("wall_seconds") if isinstance(training, dict) else None
    return float(wall) if isinstance(wall, int | float) and wall >= 0 else None


def training_queue(db: SqliteDatabase) -> tuple[list[QueuedSession], list[QueuedSession]]:
    """(queued or training sessions, the five most recently finished ones)."""
    cols = "id, model_id, status, metadata, started_at"
    active = db.execute_sql(
        f"SELECT {cols} FROM training_sessions WHERE status IN ('queued', 'training') ORDER BY id"
    ).fetchall()
    done = db.execute_sql(
        f"SELECT {cols} FROM training_sessions WHERE status NOT IN ('queued', 'training') "
        "ORDER BY coalesce(completed_at, started_at, 0) DESC, id DESC LIMIT 5"
    ).fetchall()
    return [_session(r) for r in active], [_session(r) for r in done]


def record_failed_run(model_id: str, error: str, metadata: dict, status: str = "failed") -> int:
    """A run outside the training queue that failed (an agent's refit), kept as a finished
    session so the Training Center shows it as it shows a failed training; returns its id."""
    now = time.time()
    row = TrainingSession.create(
        model_id=model_id,
        status=status,
        started_at=now,
        completed_at=now,
        metadata={**metadata, "error": error},
    )
    return int(row.id)


def clustering_summary(db: SqliteDatabase) -> ClusteringSummary | None:
    """The latest analysis run's per-algorithm clusters and silhouette, and its consensus."""
    run = latest_run(db)
    if run is None:
        return None
    metrics = run.metrics if isinstance(run.metrics, dict) else json.loads(run.metrics or "{}")
    algos = []
    for name, m in (metrics.get("algorithms") or {}).items():
        algos.append(
            AlgorithmRow(
                name,
                m.get("clusters"),
                m.get("silhouette"),
                m.get("runtime_s"),
                m.get("error") or "",
            )
        )
    n_patterns = db.execute_sql(
        "SELECT count(*) FROM patterns WHERE json_extract(metadata, '$.last_run_id') = ?", (run.id,)
    ).fetchone()[0]
    return ClusteringSummary(
        int(run.id), float(run.started_at or 0.0), int(run.n_events or 0),
        consensus_score_of(run.consensus_score, metrics), int(n_patterns), algos,
    )  # fmt: skip


def last_model_verdict(
    pattern_id: int | None, workflow: str | None = None
) -> tuple[int, dict] | None:
    """The newest completed training of ``pattern_id`` (None: the general agent, or the agent of
    ``workflow``) that recorded what the language model added (its ``lm`` record, see
    ``agents.training.runner``): (its data size, that record), or None."""
    rows = (
        TrainingSession.select()
        .where(TrainingSession.status == "completed")
        .order_by(TrainingSession.completed_at.desc())
    )
    for row in rows:
        meta = row.metadata or {}
        same = meta.get("pattern_id") == pattern_id and meta.get("workflow") == workflow
        if same and isinstance(meta.get("lm"), dict):
            return int(row.training_data_size or 0), meta["lm"]
    return None
