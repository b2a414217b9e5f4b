"""The predictors' tables as the agents see them: micro_agents, bandit_arms, the suggestions in
user_interactions and the completed trainings' metrics. Plain data in, plain data out."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from peewee import SqliteDatabase

from selflow_qt.store.models import BanditArm, MicroAgent, Pattern, TrainingSession, UserInteraction


@dataclass
class AgentRecord:
    """A micro_agents row as the rankings read it."""

    model_id: str
    specialization: str
    success_rate: float
    avg_latency_ms: float
    total_queries: int
    is_active: bool


def agent_records(db: SqliteDatabase) -> list[AgentRecord]:
    rows = db.execute_sql(
        "SELECT model_id, specialization, success_rate, avg_latency_ms, total_queries, is_active "
        "FROM micro_agents"
    ).fetchall()
    return [
        AgentRecord(m, spec or "", float(rate or 0.0), float(lat or 0.0), int(n or 0), bool(act))
        for m, spec, rate, lat, n, act in rows
    ]


def suggestions_by_model(db: SqliteDatabase) -> dict[str, int]:
    """Suggestions logged so far, per predictor that made them."""
    rows = db.execute_sql(
        "SELECT model_id, count(*) FROM user_interactions WHERE interaction_type = 'suggestion' "
        "AND model_id IS NOT NULL GROUP BY model_id"
    ).fetchall()
    return {m: int(n) for m, n in rows}


def training_metrics(db: SqliteDatabase, also: tuple[str, ...] = ()) -> dict[str, dict]:
    """model id -> its own held-out metrics from its latest completed training; the predictors
    named in ``also`` (the baselines, scored beside every agent) from the latest one."""
    rows = db.execute_sql(
        "SELECT model_id, metadata FROM training_sessions WHERE status = 'completed' ORDER BY id"
    ).fetchall()
    out: dict[str, dict] = {}
    for model_id, meta in rows:  # later sessions overwrite earlier ones
        try:
            m = json.loads(meta) if isinstance(meta, str) else (meta or {})
        except json.JSONDecodeError:
            continue
        metrics = m.get("metrics") or {}
        for name in (model_id, *also):
            if isinstance(metrics.get(name), dict):
                out[name] = metrics[name]
    return out


def retired_agent_count() -> int:
    """Micro-agents taken out of service."""
    return MicroAgent.select().where(MicroAgent.is_active == False).count()  # noqa: E712


def session_model_id(session_id: int) -> str:
    """The model id a training session trains."""
    return TrainingSession.get_by_id(session_id).model_id


def best_pattern() -> tuple[int, str] | None:
    """(id, name) of the pattern most worth an agent: confidence times events, then the most
    recently seen; None before any analysis."""
    patterns = list(Pattern.select())
    if not patterns:
        return None
    best = max(patterns, key=lambda p: (p.confidence * p.event_count, p.last_seen))
    return best.id, best.name


def deactivate_agents(model_ids: list[str]) -> None:
    """Take agents out of service (their adapters stay on disk)."""
    if model_ids:
        MicroAgent.update(is_active=False).where(MicroAgent.model_id.in_(model_ids)).execute()


@dataclass
class SuggestionRecord:
    """A logged suggestion (user_interactions, type ``suggestion``)."""

    id: int
    model_id: str | None
    timestamp: float
    latency_ms: float
    success: bool | None
    data: dict


def _suggestion(row: UserInteraction) -> SuggestionRecord:
    return SuggestionRecord(
        row.id,
        row.model_id,
        row.timestamp,
        row.latency_ms or 0.0,
        row.success,
        dict(row.data or {}),
    )


def log_suggestion(model_id: str, timestamp: float, latency_ms: float, data: dict) -> int:
    """A new suggestion, not resolved yet; its id."""
    row = UserInteraction.create(
        interaction_type="suggestion",
        timestamp=timestamp,
        model_id=model_id,
        success=None,
        latency_ms=latency_ms,
        data=data,
    )
    return row.id


def pending_suggestions() -> list[SuggestionRecord]:
    """Suggestions not resolved yet, oldest first."""
    rows = (
        UserInteraction.select()
        .where(
            (UserInteraction.interaction_type == "suggestion") & UserInteraction.success.is_null()
        )
        .order_by(UserInteraction.id)
    )
    return [_suggestion(r) for r in rows]


def suggestion_by_id(interaction_id: int) -> SuggestionRecord | None:
    row = UserInteraction.get_or_none(UserInteraction.id == interaction_id)
    return None if row is None else _suggestion(row)


@dataclass
class AgentHome:
    """Where an active micro-agent lives."""

    model_id: str
    folder: str
    is_active: bool


def agent_home(model_id: str) -> AgentHome | None:
    row = MicroAgent.get_or_none(MicroAgent.model_id == model_id)
    return None if row is None else AgentHome(row.model_id, row.model_path, bool(row.is_active))


def resolve_suggestion(
    interaction_id: int, model_id: str | None, success: bool, data: dict
) -> None:
    """Record a suggestion's outcome, and count it in its micro-agent's running success rate."""
    UserInteraction.update(success=success, data=data).where(
        UserInteraction.id == interaction_id
    ).execute()
    agent = MicroAgent.get_or_none(MicroAgent.model_id == model_id)
    if agent is not None:
        n = agent.total_queries + 1
        agent.success_rate = (agent.success_rate * agent.total_queries + success) / n
        agent.total_queries = n
        agent.save()


@dataclass
class ArmCounts:
    successes: int
    attempts: int
    total_latency_ms: float


def bandit_counts(arms: dict[str, str]) -> dict[str, ArmCounts]:
    """Stored counts of these arms (arm id -> kind); arms not stored yet are created empty. Two
    readers may store the same new arm at once (the Training Center and the Agents dock load
    together): the second one's insert is ignored."""
    stored = {r.arm_id: r for r in BanditArm.select().where(BanditArm.arm_id.in_(list(arms)))}
    out = {}
    for arm_id, kind in arms.items():
        row = stored.get(arm_id)
        if row is None:
            BanditArm.insert(arm_id=arm_id, kind=kind).on_conflict_ignore().execute()
            out[arm_id] = ArmCounts(0, 0, 0.0)
        else:
            out[arm_id] = ArmCounts(row.successes, row.attempts, row.total_latency_ms)
    return out


def add_bandit_outcome(
    arm_id: str, kind: str, success: bool, latency_ms: float, counts: ArmCounts
) -> None:
    """Count one outcome for ``arm_id``; an arm not stored yet is stored with ``counts``."""
    n = (
        BanditArm.update(
            successes=BanditArm.successes + int(bool(success)),
            attempts=BanditArm.attempts + 1,
            total_latency_ms=BanditArm.total_latency_ms + float(latency_ms),
            updated_at=time.time(),
        )
        .where(BanditArm.arm_id == arm_id)
        .execute()
    )
    if n == 0:
        BanditArm.create(
            arm_id=arm_id,
            kind=kind,
            successes=counts.successes,
            attempts=counts.attempts,
            total_latency_ms=counts.total_latency_ms,
        )
