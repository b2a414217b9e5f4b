"""Only the best max_models agents stay active."""

from __future__ import annotations

from selflow_qt.agents.serving.registry import active_agents, enforce_max_active
from selflow_qt.store.models import MicroAgent


def test_the_best_agents_stay_active_and_the_rest_retire(store):
    for i, score in enumerate([0.3, 0.9, 0.5, 0.1]):
        MicroAgent.create(model_id=f"agent-{i}", performance_score=score)
    retired = enforce_max_active(2)
    assert sorted(retired) == ["agent-0", "agent-3"]
    assert [a.model_id for a in active_agents()] == ["agent-1", "agent-2"]
