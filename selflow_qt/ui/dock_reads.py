"""Read models for the Training Center and Micro-Agents docks: plain SQL in, dataclasses out.

No Qt: these run on a Worker with their own connection (see ``read_with``). Feature modules
(analysis, agents) are imported lazily; when one is missing its part is simply empty.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from peewee import SqliteDatabase

from selflow_qt.core.settings import Settings
from selflow_qt.store.db import connect, db_path_for
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


def _optional(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise


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


@dataclass
class AgentRow:
    """One micro-agent or baseline as the rankings show it (rates in 0..1)."""

    arm_id: str
    kind: str  # agent / baseline
    specialization: str
    success_rate: float
    ci_low: float
    ci_high: float
    mean_latency_ms: float
    queries: int
    successes: int
    active: bool = True
    hit1: float | None = None
    mrr: float | None = None


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
    consensus_score: float
    n_patterns: int
    algorithms: list[AlgorithmRow]


@dataclass
class BanditView:
    """How the bandit splits suggestions: observed exploitation of the current best arm."""

    policy: str
    epsilon: float  # the configured exploration rate (epsilon-greedy)
    suggestions: int  # suggestions logged so far
    exploitation: float | None  # share of them served by the current best arm
    best: AgentRow | None


@dataclass
class TrainingCenterData:
    """Everything the Training Center shows besides the live training stream."""

    buffer: BufferView
    queue: list[QueuedSession]
    recent: list[QueuedSession]
    ranking: list[AgentRow]
    bandit: BanditView
    clustering: ClusteringSummary | None
    trigger: list[tuple[str, bool, str]] = field(default_factory=list)  # name, passed, detail
    missing: list[str] = field(default_factory=list)  # features not available yet


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
        pattern_name=str(m.get("pattern_name") or m.get("pattern_id") or "—"),
        reason=str(m.get("reason") or ""),
        sequences=len(seqs) if isinstance(seqs, list) else int(seqs or 0),
        started_at=started,
    )


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


def _agent_rows(db: SqliteDatabase) -> dict[str, AgentRow]:
    rows = db.execute_sql(
        "SELECT model_id, specialization, success_rate, avg_latency_ms, total_queries, is_active "
        "FROM micro_agents"
    ).fetchall()
    out = {}
    for model_id, spec, rate, lat, queries, active in rows:
        queries = int(queries or 0)
        successes = round((rate or 0.0) * queries)
        lo, hi = _beta_interval(successes, queries)
        out[model_id] = AgentRow(
            model_id, "agent", spec or "", float(rate or 0.0), lo, hi, float(lat or 0.0),
            queries, successes, bool(active),
        )  # fmt: skip
    return out


def _beta_interval(successes: int, attempts: int) -> tuple[float, float]:
    if attempts <= 0:
        return 0.0, 1.0
    from scipy.stats import beta

    a, b = successes + 1, attempts - successes + 1
    return float(beta.ppf(0.025, a, b)), float(beta.ppf(0.975, a, b))


def agent_ranking(
    db: SqliteDatabase, settings: Settings, missing: list[str] | None = None
) -> tuple[list[AgentRow], BanditView]:
    """Agents and baselines in medal order: by posterior mean success, untried last.

    Counts come from the bandit's arms, or from micro_agents where those saw more queries.
    """
    agents = _agent_rows(db)
    bandit_mod = _optional("selflow_qt.agents.bandit")
    rows: list[AgentRow] = []
    if bandit_mod is None:
        if missing is not None:
            missing.append("bandit")
    else:
        bandit = bandit_mod.Bandit.load(db, settings.bandit_policy, settings.exploration_rate)
        for s in bandit.stats():
            meta = agents.pop(s.arm_id, None)
            if meta is not None and meta.queries > s.attempts:
                rows.append(meta)  # the agent's own record is the longer one
                continue
            rows.append(
                AgentRow(
                    s.arm_id,
                    s.kind,
                    meta.specialization if meta else _baseline_spec(s.kind),
                    float(s.success_rate),
                    float(s.ci_low),
                    float(s.ci_high),
                    float(s.mean_latency_ms),
                    int(s.attempts),
                    int(s.successes),
                    meta.active if meta else True,
                )  # fmt: skip
            )
    rows += list(agents.values())  # agents the bandit does not hold (retired, not tried)
    _attach_offline_metrics(db, rows)
    rows.sort(
        key=lambda r: (r.queries == 0, -(r.successes + 1) / (r.queries + 2), r.mean_latency_ms)
    )
    tried = [r for r in rows if r.queries > 0]
    best = tried[0] if tried else None
    return rows, BanditView(
        settings.bandit_policy,
        settings.exploration_rate,
        *_served_shares(db, best.arm_id if best else None),
        best,
    )


def _baseline_spec(kind: str) -> str:
    return "all activity (baseline)" if kind == "baseline" else ""


def _served_shares(db: SqliteDatabase, best: str | None) -> tuple[int, float | None]:
    """(suggestions logged, share served by ``best``): observed exploitation."""
    rows = db.execute_sql(
        "SELECT model_id, count(*) FROM user_interactions WHERE interaction_type = 'suggestion' "
        "AND model_id IS NOT NULL GROUP BY model_id"
    ).fetchall()
    total = sum(n for _, n in rows)
    if not total or best is None:
        return total, None
    return total, sum(n for m, n in rows if m == best) / total


def _attach_offline_metrics(db: SqliteDatabase, rows: list[AgentRow]) -> None:
    """hit@1 and MRR: an agent's held-out scores from its latest completed training, else the
    last saved offline evaluation (kv_state "offline_eval")."""
    from selflow_qt.store.state import kv_get

    saved = kv_get(db, "offline_eval") or {}
    metrics = dict(saved.get("metrics", {})) if isinstance(saved, dict) else {}
    sessions = db.execute_sql(
        "SELECT model_id, metadata FROM training_sessions WHERE status = 'completed' ORDER BY id"
    ).fetchall()
    for model_id, meta in sessions:  # later sessions overwrite earlier ones
        try:
            m = json.loads(meta) if isinstance(meta, str) else (meta or {})
        except json.JSONDecodeError:
            continue
        own = (m.get("metrics") or {}).get(model_id)
        if isinstance(own, dict):
            metrics[model_id] = own
    for r in rows:
        m = metrics.get(r.arm_id)
        if isinstance(m, dict):
            r.hit1 = m.get("hit1")
            r.mrr = m.get("mrr")


def clustering_summary(db: SqliteDatabase) -> ClusteringSummary | None:
    """The latest analysis run's per-algorithm clusters and silhouette, and its consensus."""
    read = _optional("selflow_qt.analyze.read")
    if read is None:
        return None
    run = read.latest_run(db)
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
        float(run.consensus_score or 0.0), int(n_patterns), algos,
    )  # fmt: skip


def trigger_criteria(
    db: SqliteDatabase, data_dir: Path, settings: Settings
) -> list[tuple[str, bool, str]] | None:
    trig = _optional("selflow_qt.analyze.trigger")
    if trig is None:
        return None
    from selflow_qt.store.context import StoreContext

    return criteria_of(trig.evaluate_trigger(StoreContext(Path(data_dir), settings, db)))


def criteria_of(report) -> list[tuple[str, bool, str]]:
    """(name, passed, detail) of an analyze.trigger.TriggerReport."""
    return [(c.name, bool(c.passed), str(c.detail)) for c in getattr(report, "criteria", [])]


def training_center_data(
    db: SqliteDatabase,
    data_dir: Path,
    settings: Settings,
    with_trigger: bool = True,
    now: float | None = None,
) -> TrainingCenterData:
    """One read for the Training Center; ``with_trigger=False`` when the app's own minutely
    trigger check already reports the criteria."""
    missing: list[str] = []
    queue, recent = training_queue(db)
    ranking, bandit = agent_ranking(db, settings, missing)
    clustering = clustering_summary(db)
    if clustering is None and _optional("selflow_qt.analyze.read") is None:
        missing.append("analysis")
    criteria = trigger_criteria(db, data_dir, settings) if with_trigger else None
    return TrainingCenterData(
        buffer=buffer_view(db, settings, now),
        queue=queue,
        recent=recent,
        ranking=ranking,
        bandit=bandit,
        clustering=clustering,
        trigger=criteria or [],
        missing=missing,
    )
