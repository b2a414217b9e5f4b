"""Read models for the dashboard and the tray: cheap aggregates over the local day, plain Python.

"Today" is the user's local calendar day: an event belongs to it when ``ts + tz_offset`` (its own
local clock) falls on today's local date. Every query first narrows by the ``ts`` index.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from peewee import SqliteDatabase

from selflow_qt.core.wording import unnamed_group
from selflow_qt.store.day import DAY, LocalDay, local_day  # noqa: F401 - re-exported
from selflow_qt.store.focus import (  # noqa: F401 - re-exported
    FOCUS_GAP_CAP_S,
    FOCUS_TIME_DEFINITION,
    focus_time_today,
)
from selflow_qt.store.state import buffer_fill

FLOW_GAP_S = 5 * 60  # an action more than this after the previous one starts afresh
WORKFLOW_EFFICIENCY_DEFINITION = (
    "Workflow Efficiency: the share of today's actions that carry on the workflow of the action "
    "just before them (the same pattern, within 5 minutes); the rest are switches between "
    "workflows, stray actions (noise) or fresh starts after a pause. Counts only actions the "
    "latest analysis has assigned."
)


def _one(db: SqliteDatabase, sql: str, params: tuple = ()) -> object:
    row = db.execute_sql(sql, params).fetchone()
    return row[0] if row else None


def _table_exists(db: SqliteDatabase, name: str) -> bool:
    return (
        _one(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", (name,)) or 0
    ) > 0


# -- today's activity ---------------------------------------------------------------------------
def events_today(db: SqliteDatabase, day: LocalDay | None = None) -> int:
    day = day or local_day()
    where, params = day.sql()
    return int(_one(db, f"SELECT count(*) FROM events WHERE {where}", params) or 0)


def events_today_by_hour(db: SqliteDatabase, day: LocalDay | None = None) -> dict[str, list[int]]:
    """{source: [count for hour 0..23]} of today's events, in local hours."""
    day = day or local_day()
    where, params = day.sql()
    rows = db.execute_sql(
        f"SELECT source, CAST((ts + tz_offset * 60 - ?) / 3600 AS INTEGER) AS h, count(*) "
        f"FROM events WHERE {where} GROUP BY source, h",
        (day.start, *params),
    ).fetchall()
    out: dict[str, list[int]] = {}
    for source, hour, n in rows:
        out.setdefault(source, [0] * 24)[max(0, min(23, int(hour)))] += int(n)
    return dict(sorted(out.items()))


def file_ops_today(db: SqliteDatabase, day: LocalDay | None = None) -> dict[str, int]:
    """{action: count} of today's filesystem events (create, modify, move, delete, ...)."""
    day = day or local_day()
    where, params = day.sql()
    rows = db.execute_sql(
        f"SELECT action, count(*) FROM events WHERE source = 'fs' AND {where} "
        "GROUP BY action ORDER BY count(*) DESC",
        params,
    ).fetchall()
    return {a: int(n) for a, n in rows}


def top_apps_today(db: SqliteDatabase, day: LocalDay | None = None, limit: int = 8) -> list:
    """[(app, events)] of today's most frequent apps, most first."""
    day = day or local_day()
    where, params = day.sql()
    rows = db.execute_sql(
        f"SELECT app, count(*) FROM events WHERE app IS NOT NULL AND {where} "
        f"GROUP BY app ORDER BY count(*) DESC LIMIT {int(limit)}",
        params,
    ).fetchall()
    return [(a, int(n)) for a, n in rows]


# -- analysis read-outs -------------------------------------------------------------------------
def _analysis_tables(db: SqliteDatabase) -> tuple[str, str, str, str] | None:
    """(runs table, assignments table, its run column, its event column), if analysis exists."""
    from selflow_qt.store.models import AnalysisRun, ClusterAssignment

    run_t, ca_t = AnalysisRun._meta.table_name, ClusterAssignment._meta.table_name
    if not (_table_exists(db, run_t) and _table_exists(db, ca_t)):
        return None
    fields = ClusterAssignment._meta.fields
    return run_t, ca_t, fields["run"].column_name, fields["event_id"].column_name


FEW_UNITS = "few units"  # a run's "reduction" when one method grouped a few workflow units


def consensus_score_of(score: float | None, metrics: dict | str | None) -> float | None:
    """A run's consensus score, or None where one method grouped (a first cycle from few workflow
    units, analyze.few_units: its stored 1.0 is that method agreeing with itself)."""
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics)
        except ValueError:
            metrics = {}
    if score is None or (metrics or {}).get("reduction") == FEW_UNITS:
        return None
    return float(score)


def latest_run_info(db: SqliteDatabase) -> dict | None:
    """The latest completed analysis run as {id, started_at, n_events, consensus_score, metrics}."""
    tables = _analysis_tables(db)
    if tables is None:
        return None
    row = db.execute_sql(
        f"SELECT id, started_at, n_events, consensus_score, metrics FROM {tables[0]} "
        "WHERE status = 'completed' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    metrics = row[4]
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics)
        except ValueError:
            metrics = {}
    return {
        "id": row[0],
        "started_at": row[1],
        "n_events": row[2],
        "consensus_score": consensus_score_of(row[3], metrics),
        "metrics": metrics or {},
    }


def algorithm_cluster_count(db: SqliteDatabase, algorithm: str = "hdbscan") -> int | None:
    """How many clusters ``algorithm`` found in the latest run (None: no run yet)."""
    run = latest_run_info(db)
    if run is None:
        return None
    algo = (run["metrics"].get("algorithms") or {}).get(algorithm) or {}
    n = algo.get("clusters")
    return int(n) if n is not None else None


def pattern_count(db: SqliteDatabase) -> int:
    return int(_one(db, "SELECT count(*) FROM patterns") or 0)


@dataclass
class HotPattern:
    pattern_id: int
    name: str
    confidence: float
    event_count: int
    today: int = 0


def _pattern_labels(db: SqliteDatabase, run_id: int) -> dict[int, tuple[int, str, float, int]]:
    """{consensus label: (pattern id, name, confidence, event_count)} for patterns of ``run_id``."""
    out: dict[int, tuple[int, str, float, int]] = {}
    for pid, name, conf, count, meta in db.execute_sql(
        "SELECT id, name, confidence, event_count, metadata FROM patterns"
    ).fetchall():
        try:
            m = json.loads(meta) if isinstance(meta, str) else (meta or {})
        except ValueError:
            continue
        if m.get("last_run_id") == run_id and m.get("cluster_label") is not None:
            out[int(m["cluster_label"])] = (pid, name, float(conf or 0), int(count or 0))
    return out


def workflows_today(db: SqliteDatabase, day: LocalDay | None = None) -> dict:
    """Today's analysed events by pattern: {"analysed", "in_workflows", "by_pattern": {name: n}}."""
    day = day or local_day()
    empty = {"analysed": 0, "in_workflows": 0, "by_pattern": {}}
    tables = _analysis_tables(db)
    run = latest_run_info(db) if tables else None
    if run is None or tables is None:
        return empty
    where, params = day.sql("e")
    rows = db.execute_sql(
        f"SELECT ca.consensus, count(*) FROM {tables[1]} ca JOIN events e ON e.id = ca.{tables[3]} "
        f"WHERE ca.{tables[2]} = ? AND {where} GROUP BY ca.consensus",
        (run["id"], *params),
    ).fetchall()
    labels = _pattern_labels(db, run["id"])
    by_pattern: dict[str, int] = {}
    analysed = in_wf = 0
    for label, n in rows:
        analysed += n
        if label is not None and label >= 0:
            in_wf += n
            name = labels.get(int(label), (0, unnamed_group(int(label)), 0.0, 0))[1]
            by_pattern[name] = by_pattern.get(name, 0) + n
    by_pattern = dict(sorted(by_pattern.items(), key=lambda kv: -kv[1]))
    return {"analysed": analysed, "in_workflows": in_wf, "by_pattern": by_pattern}


@dataclass
class Efficiency:
    """Today's workflow efficiency: ``continued`` of ``analysed`` actions stayed in their flow."""

    analysed: int
    continued: int

    @property
    def share(self) -> float | None:
        return self.continued / self.analysed if self.analysed else None


def efficiency_today(db: SqliteDatabase, day: LocalDay | None = None) -> Efficiency:
    """Counts behind WORKFLOW_EFFICIENCY_DEFINITION over today's analysed actions."""
    day = day or local_day()
    tables = _analysis_tables(db)
    run = latest_run_info(db) if tables else None
    if run is None or tables is None:
        return Efficiency(0, 0)
    where, params = day.sql("e")
    rows = db.execute_sql(
        f"SELECT e.ts, ca.consensus FROM {tables[1]} ca JOIN events e ON e.id = ca.{tables[3]} "
        f"WHERE ca.{tables[2]} = ? AND {where} ORDER BY e.ts",
        (run["id"], *params),
    ).fetchall()
    continued, prev_ts, prev_label = 0, None, None
    for ts, label in rows:
        if (
            label is not None
            and label >= 0
            and label == prev_label
            and prev_ts is not None
            and ts - prev_ts <= FLOW_GAP_S
        ):
            continued += 1
        prev_ts, prev_label = ts, label
    return Efficiency(len(rows), continued)


def workflow_efficiency(db: SqliteDatabase, day: LocalDay | None = None) -> float | None:
    """Share (0..1) of today's analysed actions that stayed in their workflow; None if none."""
    return efficiency_today(db, day).share


def hot_patterns(
    db: SqliteDatabase, limit: int = 5, day: LocalDay | None = None
) -> list[HotPattern]:
    """Patterns most active today (by analysed events), then the most recently seen ones."""
    today = workflows_today(db, day)["by_pattern"]
    rows = db.execute_sql(
        "SELECT id, name, confidence, event_count FROM patterns "
        "ORDER BY last_seen DESC, event_count DESC LIMIT 200"
    ).fetchall()
    pats = [
        HotPattern(r[0], r[1], float(r[2] or 0), int(r[3] or 0), today.get(r[1], 0)) for r in rows
    ]
    pats.sort(key=lambda p: (-p.today, -p.event_count))
    return pats[:limit]


# -- agents, training, notifications ------------------------------------------------------------
@dataclass
class AgentLine:
    model_id: str
    specialization: str
    success_rate: float
    total_queries: int
    medal: str = ""


def analysis_run_count(db: SqliteDatabase, tables: tuple | None = None) -> int:
    """Finished analysis runs: the one count the tray, the Data Insights dock and
    ``selflow status`` show."""
    tables = tables or _analysis_tables(db)
    return int(_one(db, f"SELECT count(*) FROM {tables[0]}") or 0) if tables else 0


def analyses_line(db: SqliteDatabase) -> str:
    """'2 analysis runs, 5 patterns; training queue: 5 queued, 0 training' (selflow status)."""
    from selflow_qt.core.format import count

    t = training_counts(db)
    return (
        f"{count(analysis_run_count(db), 'analysis run')}, {count(pattern_count(db), 'pattern')}; "
        f"training queue: {t.get('queued', 0)} queued, {t.get('training', 0)} training"
    )


def training_counts(db: SqliteDatabase) -> dict[str, int]:
    rows = db.execute_sql("SELECT status, count(*) FROM training_sessions GROUP BY status")
    return {s: int(n) for s, n in rows.fetchall()}


def unread_notifications(db: SqliteDatabase, limit: int = 10) -> tuple[int, list[dict]]:
    """(number unread, the latest ``limit`` unread as dicts with id, kind, title, body, created_at)."""
    n = int(_one(db, "SELECT count(*) FROM notifications WHERE NOT read") or 0)
    rows = db.execute_sql(
        "SELECT id, kind, title, body, created_at FROM notifications WHERE NOT read "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return n, [
        dict(zip(("id", "kind", "title", "body", "created_at"), r, strict=True)) for r in rows
    ]


def mark_notifications_read(db: SqliteDatabase, ids: list[int] | None = None) -> None:
    if ids is None:
        db.execute_sql("UPDATE notifications SET read = 1 WHERE NOT read")
    elif ids:
        marks = ",".join("?" * len(ids))
        db.execute_sql(f"UPDATE notifications SET read = 1 WHERE id IN ({marks})", tuple(ids))


# -- the tray's whole read-out ------------------------------------------------------------------
@dataclass
class TraySnapshot:
    """Every number the tray menu shows, read in one go."""

    events_today: int = 0
    hdbscan_patterns: int | None = None
    patterns_total: int = 0
    hot: list[HotPattern] = field(default_factory=list)
    file_ops_today: int = 0
    file_ops_by_action: dict[str, int] = field(default_factory=dict)
    focus_seconds: float = 0.0
    workflow_efficiency: float | None = None
    agents: list[AgentLine] = field(default_factory=list)  # filled from agents.serving.leaderboard
    training: dict[str, int] = field(default_factory=dict)
    buffer_percent: float = 0.0
    buffer_bytes: int = 0
    budget_bytes: int = 0
    analysis_runs: int = 0
    consensus_score: float | None = None
    notifications_unread: int = 0
    notifications: list[dict] = field(default_factory=list)
    took_ms: float = 0.0


def tray_snapshot(db: SqliteDatabase, budget_bytes: int, now: float | None = None) -> TraySnapshot:
    t0 = time.perf_counter()
    day = local_day(now)
    ops = file_ops_today(db, day)
    fill = buffer_fill(db, budget_bytes)
    run = latest_run_info(db)
    tables = _analysis_tables(db)
    n_unread, notes = unread_notifications(db)
    snap = TraySnapshot(
        events_today=events_today(db, day),
        hdbscan_patterns=algorithm_cluster_count(db, "hdbscan"),
        patterns_total=pattern_count(db),
        hot=hot_patterns(db, 5, day),
        file_ops_today=sum(ops.values()),
        file_ops_by_action=ops,
        focus_seconds=focus_time_today(db, day, now),
        workflow_efficiency=workflow_efficiency(db, day),
        training=training_counts(db),
        buffer_percent=fill.percent,
        buffer_bytes=fill.bytes,
        budget_bytes=fill.budget_bytes,
        analysis_runs=analysis_run_count(db, tables),
        consensus_score=run["consensus_score"] if run else None,
        notifications_unread=n_unread,
        notifications=notes,
    )
    snap.took_ms = (time.perf_counter() - t0) * 1000
    return snap
