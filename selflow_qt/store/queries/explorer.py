"""Read models for the Cluster Explorer: the projection, event rows and specialization ideas.

No Qt; each function runs on a Worker with its own connection (``dock_reads.read_with``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np
from peewee import SqliteDatabase

MAX_POINTS = 50_000  # beyond this the scatter shows a uniform sample
TABLE_LIMIT = 5_000  # rows loaded into the event table at once


@dataclass
class ExplorerData:
    """The latest projection (or None) plus what the side panel lists."""

    projection: object | None  # analyze.read.Projection
    cluster_sizes: dict[int, int] = field(default_factory=dict)
    suggestions: list[SpecializationIdea] = field(default_factory=list)
    sampled_from: int = 0  # original number of points when sampled, else 0


@dataclass
class SpecializationIdea:
    """A queued session or a pattern worth its own micro-agent."""

    kind: str  # queued / candidate
    pattern_id: int | None
    pattern_name: str
    text: str
    session_id: int | None = None


NO_TIME = "history (no time)"


@dataclass
class EventView:
    """One event as the explorer's table shows it."""

    event_id: int
    ts: float
    source: str
    action: str
    subject: str
    estimated: bool = False  # an untimed history line: its time is invented (order only)

    @property
    def when(self) -> str:
        if self.estimated:
            return NO_TIME
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.ts))


def sample_projection(proj, max_points: int = MAX_POINTS, seed: int = 0):
    """A uniform sample of at most ``max_points`` points of a Projection (same object if smaller)."""
    n = len(proj.event_ids)
    if n <= max_points:
        return proj
    import dataclasses

    keep = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
    return dataclasses.replace(
        proj,
        event_ids=proj.event_ids[keep],
        xy=proj.xy[keep],
        consensus=proj.consensus[keep],
        per_algorithm={k: v[keep] for k, v in proj.per_algorithm.items()},
    )


def specialization_ideas(db: SqliteDatabase, limit: int = 8) -> list[SpecializationIdea]:
    """Queued sessions first, then frequent confident patterns with no training yet."""
    ideas: list[SpecializationIdea] = []
    trained: set[int] = set()
    rows = db.execute_sql(
        "SELECT id, status, metadata FROM training_sessions ORDER BY id"
    ).fetchall()
    for sid, status, meta in rows:
        try:
            m = json.loads(meta) if isinstance(meta, str) else (meta or {})
        except json.JSONDecodeError:
            m = {}
        pid = m.get("pattern_id")
        if pid is not None:
            trained.add(int(pid))
        if status == "queued":
            name = str(m.get("pattern_name") or f"pattern {pid}")
            reason = m.get("reason") or "queued by the last analysis"
            ideas.append(
                SpecializationIdea("queued", pid, name, f"Queued #{sid}: {name} — {reason}", sid)
            )
    patterns = db.execute_sql(
        "SELECT id, name, event_count, confidence FROM patterns "
        "WHERE confidence >= 0.5 ORDER BY event_count DESC LIMIT 50"
    ).fetchall()
    for pid, name, count, conf in patterns:
        if int(pid) in trained or count < 30:
            continue
        ideas.append(
            SpecializationIdea(
                "candidate",
                int(pid),
                name,
                # not queued by the analysis (the Training Center's queue is the one truth):
                # said as such, so the explorer never promises what the queue does not hold
                f"Not queued: {name} — {count:,} events, confidence {conf:.2f}; "
                "queue it here to train an agent anyway",
            )  # fmt: skip
        )
    return ideas[:limit]


def explorer_data(db: SqliteDatabase, max_points: int = MAX_POINTS) -> ExplorerData:
    """The latest projection, sampled beyond ``max_points``, with cluster sizes and ideas."""
    from selflow_qt.store.queries import analysis as read

    ideas = specialization_ideas(db)
    proj = read.latest_projection(db, max_points=max_points)
    if proj is None or len(proj.event_ids) == 0:
        return ExplorerData(None, suggestions=ideas)
    proj = sample_projection(proj, max_points)  # in case the reader returned more
    run = read.latest_run(db)
    total = int(getattr(run, "n_events", 0) or 0)
    labels, counts = np.unique(proj.consensus, return_counts=True)
    sizes = {int(k): int(v) for k, v in zip(labels, counts, strict=True)}
    sampled_from = total if total > len(proj.event_ids) else 0
    return ExplorerData(proj, sizes, ideas, sampled_from=sampled_from)


def subject_of(path, dest, app, cmd, cwd) -> str:
    """What an event was about, in one line."""
    if cmd:
        return cmd
    if path and dest:
        return f"{path} → {dest}"
    return path or app or cwd or ""


def event_views(db: SqliteDatabase, event_ids: np.ndarray | list[int]) -> list[EventView]:
    """The events with these ids, in the given order (missing ids are skipped)."""
    ids = [int(i) for i in event_ids]
    found: dict[int, EventView] = {}
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        q = ",".join("?" * len(chunk))
        sql = (
            "SELECT id, ts, source, action, path, dest, app, cmd, cwd, CASE WHEN json_valid(meta)"
            f" THEN json_extract(meta, '$.ts_estimated') END FROM events WHERE id IN ({q})"
        )
        for eid, ts, source, action, path, dest, app, cmd, cwd, est in db.execute_sql(sql, chunk):
            subject = subject_of(path, dest, app, cmd, cwd)
            found[eid] = EventView(eid, ts, source, action, subject, bool(est))
    return [found[i] for i in ids if i in found]
