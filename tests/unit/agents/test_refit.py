"""A ranking agent's trees are refitted on the newest events in a child process; serving reloads."""

from __future__ import annotations

import json

from agent_streams import folder_stream

from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.ranking.ranking_agent import STATE_FILE, fit_ranking_agent
from selflow_qt.agents.serving import serving
from selflow_qt.agents.serving.refit import refit, start_refit
from selflow_qt.store.models import MicroAgent, Notification
from selflow_qt.store.queries.training import training_queue


def _saved_agent(store, add_events, tmp_path, events):
    add_events(store, events)
    folder = tmp_path / "agent-r"
    fit_ranking_agent("agent-r", keyed(events)).save(folder)
    MicroAgent.create(
        model_id="agent-r",
        specialization="",
        training_data_hash="",
        model_path=str(folder),
        created_at=0.0,
        performance_score=0.0,
        avg_latency_ms=0.0,
        is_active=True,
    )
    return folder


def test_a_refit_replaces_the_trees_and_serving_reloads_the_agent(store, add_events, tmp_path):
    events = folder_stream(300)
    folder = _saved_agent(store, add_events, tmp_path, events[:450])
    svc = serving.SuggestionService(store.data_dir)
    svc._refresh()
    before = svc._predictor("agent-r")
    add_events(store, events[450:])
    svc._refresh()
    report = refit(folder, serving.read_history(svc.db))
    assert report["refit_events"] == len(events)
    assert svc._predictor("agent-r") is not before  # its files changed: loaded anew
    assert svc._predictor("agent-r") is svc._predictor("agent-r")  # then kept
    assert not (folder / ".refit").exists()


def test_serving_refits_in_a_child_process_after_enough_new_events(
    store, add_events, tmp_path, monkeypatch
):
    events = folder_stream(300, seed=1)
    folder = _saved_agent(store, add_events, tmp_path, events[:600])
    monkeypatch.setattr(serving, "REFIT_EVERY", 200)
    svc = serving.SuggestionService(store.data_dir)
    svc._refresh()
    svc._predictor("agent-r")
    add_events(store, events[600:700])
    svc._refresh()
    assert svc._refits["agent-r"].child is None  # 100 new events: not yet
    add_events(store, events[700:])
    svc._refresh()
    child = svc._refits["agent-r"].child
    assert child is not None and child.wait(timeout=300).ok
    state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    assert state["report"]["refit_events"] == len(events)


def test_a_failing_refit_is_recorded_like_a_failed_training(store, tmp_path):
    folder = tmp_path / "agent-broken"
    folder.mkdir()  # no ranker state: the refit cannot load the agent
    out = start_refit(store.data_dir, folder).wait(timeout=120)
    assert out is not None and out.reason == "failed" and "FileNotFoundError" in out.message
    _queue, recent = training_queue(store.db)
    assert [(s.model_id, s.status, s.pattern_name) for s in recent] == [
        ("agent-broken", "failed", "refit of agent-broken")
    ]
    note = Notification.get(Notification.title == "Refit failed: agent-broken")
    assert "FileNotFoundError" in note.body and str(out.log) in note.body
    assert out.log.parent == store.data_dir / "logs" and "Traceback" in out.log.read_text()


def test_a_refit_keeps_what_the_model_earned(store, add_events, tmp_path):
    """The refit fits the trees anew; the model's weight and the trust in its lines were fitted
    at training (on a slice the refit does not replay) and stay, so a served agent keeps its
    model. The trust was dropped before: the agent stopped using the model's lines."""
    import numpy as np

    from selflow_qt.agents.ranking.ranking_agent import RankingAgent

    events = folder_stream(200, seed=3)
    folder = _saved_agent(store, add_events, tmp_path, events)
    agent = RankingAgent.load("agent-r", folder)
    agent.lm_weight, agent.trust = 0.5, np.array([0.0, 1.5, -0.25])
    agent.save(folder)
    refit(folder, keyed(events))
    again = RankingAgent.load("agent-r", folder)
    assert again.lm_weight == 0.5
    assert again.trust is not None and again.trust.tolist() == [0.0, 1.5, -0.25]
