"""The micro_agents table: record a trained agent, keep the best ``max_models`` active."""

from __future__ import annotations

import time
from pathlib import Path

from selflow_qt.store.models import MicroAgent
from selflow_qt.store.queries.agents import deactivate_agents
from selflow_qt.store.queries.notifications import add_notification


def record_agent(model_id: str, folder: Path, metadata: dict, specialization: str) -> MicroAgent:
    """Insert (or replace) the agent row; offline MRR is its performance score."""
    own = metadata.get("metrics", {}).get(model_id, {})
    fields = dict(
        specialization=specialization,
        training_data_hash=metadata.get("data_hash", ""),
        model_path=str(folder),
        created_at=time.time(),
        performance_score=float(own.get("mrr", 0.0)),
        avg_latency_ms=float(own.get("p50_ms", 0.0)),
        is_active=True,
    )
    row = MicroAgent.get_or_none(MicroAgent.model_id == model_id)
    if row is None:
        return MicroAgent.create(model_id=model_id, **fields)
    for k, v in fields.items():
        setattr(row, k, v)
    row.save()
    return row


def enforce_max_active(max_models: int) -> list[str]:
    """Retire all but the best ``max_models`` agents (by offline performance); returns retired ids."""
    active = list(
        MicroAgent.select()
        .where(MicroAgent.is_active == True)  # noqa: E712
        .order_by(MicroAgent.performance_score.desc(), MicroAgent.created_at.desc())
    )
    retired = [a.model_id for a in active[max(0, max_models) :]]
    retire(retired)
    return retired


def retire(model_ids: list[str]) -> None:
    """Take agents out of service (their adapters stay on disk)."""
    deactivate_agents(model_ids)


def active_agents() -> list[MicroAgent]:
    return list(
        MicroAgent.select()
        .where(MicroAgent.is_active == True)  # noqa: E712
        .order_by(MicroAgent.performance_score.desc())
    )


def notify(kind: str, title: str, body: str, data: dict | None = None) -> None:
    add_notification(kind, title, body, data)


def retire_agent(ctx, model_id: str) -> None:
    """Take an agent out of service (the UI's Retire button); its adapter stays on disk."""
    with ctx.db.atomic():
        deactivate_agents([model_id])
