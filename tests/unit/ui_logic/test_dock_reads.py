"""The docks' read models on a real store: buffer ETA, queue and ranking without Qt."""

from __future__ import annotations

import time

import pytest

from selflow_qt.agents.serving import leaderboard
from selflow_qt.core.event import Event
from selflow_qt.store.models import MicroAgent, TrainingSession
from selflow_qt.store.queries import training as dock_reads
from selflow_qt.store.writer import insert_events


def test_buffer_eta_uses_the_last_hours_fill_rate(store):
    now = time.time()
    evs = [Event(ts=now - 3000 + i, source="app", action="focus", app="code") for i in range(100)]
    with store.db.atomic():
        _, nbytes = insert_events(store.db, evs)
    store.settings.budget_bytes = 100 * nbytes
    view = dock_reads.buffer_view(store.db, store.settings, now=now)
    assert view.bytes == nbytes and view.events == 100 and view.rate_window == "hour"
    assert view.rate_bytes_per_s == pytest.approx(nbytes / 3600)
    target = store.settings.trigger_fill_ratio * store.settings.budget_bytes
    assert view.eta_s == pytest.approx((target - nbytes) / (nbytes / 3600))


def test_buffer_eta_unknown_without_recent_events(store):
    with store.db.atomic():
        insert_events(store.db, [Event(ts=1_000_000.0, source="app", action="focus", app="x")])
    view = dock_reads.buffer_view(store.db, store.settings, now=2_000_000_000.0)
    assert view.eta_s is None and view.rate_bytes_per_s == 0


def test_training_queue_reads_pattern_names(store):
    TrainingSession.create(model_id="a", status="completed", metadata={"pattern_name": "old"})
    TrainingSession.create(
        model_id="b", status="queued", metadata={"pattern_name": "coding", "sequences": [1, 2, 3]}
    )
    queued, recent = dock_reads.training_queue(store.db)
    assert [(q.pattern_name, q.sequences) for q in queued] == [("coding", 3)]
    assert [r.pattern_name for r in recent] == ["old"]


def test_a_general_agents_session_is_named_for_all_activity(store):
    """The agent trained on everything (no pattern) read "Recently: #1 —: completed"."""
    TrainingSession.create(model_id="agent-all-1", status="completed", metadata={"reason": "x"})
    _, recent = dock_reads.training_queue(store.db)
    assert [r.pattern_name for r in recent] == ["all activity"]


def test_a_finished_training_says_how_long_it_took(store):
    TrainingSession.create(
        model_id="a", status="completed", metadata={"training": {"wall_seconds": 571.4}}
    )
    TrainingSession.create(model_id="b", status="failed", metadata={"training": "broken"})
    _, recent = dock_reads.training_queue(store.db)
    assert sorted((r.model_id, r.wall_s) for r in recent) == [("a", 571.4), ("b", None)]


def test_agent_ranking_orders_by_success_and_skips_untried(store):
    for mid, rate, n in (("a", 0.5, 10), ("b", 0.9, 10), ("c", 0.0, 0)):
        MicroAgent.create(model_id=mid, success_rate=rate, total_queries=n)
    rows, bandit = leaderboard.agent_ranking(store.db, store.settings)
    agents = [r.arm_id for r in rows if r.kind == "agent"]
    assert agents == ["b", "a", "c"]
    b = next(r for r in rows if r.arm_id == "b")
    assert b.ci_low < 0.9 < b.ci_high


def test_agents_get_held_out_scores_from_their_latest_training(store):
    MicroAgent.create(model_id="agent-p1", success_rate=0.5, total_queries=4)
    for mrr in (0.3, 0.6):
        TrainingSession.create(
            model_id="agent-p1", status="completed",
            metadata={"metrics": {"agent-p1": {"hit1": mrr / 2, "mrr": mrr}, "recency": {"mrr": 0.1}}},
        )  # fmt: skip
    rows, _ = leaderboard.agent_ranking(store.db, store.settings)
    agent = next(r for r in rows if r.arm_id == "agent-p1")
    assert (agent.hit1, agent.mrr) == (0.3, 0.6)
