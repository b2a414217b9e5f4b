"""Training sessions in a child process: completed, crashed, killed, cancelled; the CLI on top."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from child_fault_env import training_fails_at

from selflow_qt.agents.model import fast_runtime
from selflow_qt.agents.training.runner import TrainingRunner, next_queued_session, queue_training
from selflow_qt.cli import main
from selflow_qt.store.models import MicroAgent, Notification, TrainingSession


def test_cli_trains_an_agent_and_ranks_it_with_the_baselines(
    agent_store, routine, add_events, capsys
):
    add_events(agent_store, routine(30))
    d = str(agent_store.data_dir)
    assert main(["--data-dir", d, "train", "--max-steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "No analysis has run yet" in out and "step 2/2" in out
    row = TrainingSession.get()
    assert row.status == "completed" and row.final_loss is not None
    agent = MicroAgent.get()
    assert agent.is_active and os.path.exists(os.path.join(agent.model_path, "agent.json"))
    assert 0.0 <= agent.performance_score <= 1.0
    # Where its time went, and what its budget gave each phase, are recorded with it.
    training = row.metadata["training"]
    assert {"loading the model", "the adapter", "evaluating"} <= set(training["phases"])
    assert training["budget"]["lm_positions"] >= 1  # a quick try: the floors, no timing
    assert len(training["curve"]["loss"]) == 2 and training["curve"]["val"][0][0] == 0
    # A quick try (2 steps) does not convert its model (test_fast_stage: a full run does).
    folder = Path(agent.model_path)
    assert json.loads((folder / "agent.json").read_text())["runtime"] == "torch"
    assert not fast_runtime.fast_dir(folder).exists()
    assert (folder / fast_runtime.ADAPTER_WEIGHTS).exists()
    assert Notification.select().where(Notification.kind == "training").count() == 1
    assert main(["--data-dir", d, "agents", "--json"]) == 0
    arms = {a["arm"]: a for a in json.loads(capsys.readouterr().out)["arms"]}
    assert {"markov-1", "markov-2", "most-frequent", "most-recent", agent.model_id} <= set(arms)
    assert arms[agent.model_id]["offline_mrr"] is not None


@pytest.mark.slow  # two child runs (~60-100 s on a shared 2-core machine)
def test_a_crashing_child_leaves_a_failed_session_and_the_next_one_works(
    agent_store, routine, add_events
):
    add_events(agent_store, routine(25))
    sid = queue_training(agent_store)  # the fault is injected from the test side: child_faults
    out = TrainingRunner(agent_store.data_dir, env=training_fails_at(1)).run(sid, max_steps=3)
    row = TrainingSession.get_by_id(sid)
    assert out.status == row.status == "failed"
    assert "injected failure" in row.metadata["error"] and "injected failure" in out.error
    assert MicroAgent.select().count() == 0
    assert not (agent_store.data_dir / "agents" / row.model_id).exists()
    # The app carries on: the next training in the same process works. It retrains an agent
    # (analyze.specialize queued it because the agent's pattern gained events): the agent it
    # replaces is retired.
    MicroAgent.create(model_id="agent-p1-00000000", specialization="old")
    sid2 = queue_training(agent_store)
    row2 = TrainingSession.get_by_id(sid2)
    row2.metadata = {**row2.metadata, "retrains": "agent-p1-00000000"}
    row2.save()
    assert TrainingRunner(agent_store.data_dir).run(sid2, max_steps=1).status == "completed"
    assert next_queued_session(agent_store.db) is None
    assert not MicroAgent.get(MicroAgent.model_id == "agent-p1-00000000").is_active
    assert MicroAgent.get(MicroAgent.model_id == row2.model_id).is_active


def test_a_killed_child_is_recorded_as_failed(agent_store, routine, add_events):
    add_events(agent_store, routine(25))
    sid = queue_training(agent_store)
    runner = TrainingRunner(agent_store.data_dir)
    seen = []

    def kill_on_first_step(p):
        seen.append(p.step)
        os.kill(runner.child_pid, signal.SIGKILL)

    out = runner.run(sid, on_progress=kill_on_first_step, max_steps=50)
    row = TrainingSession.get_by_id(sid)
    assert seen and out.status == row.status == "failed"
    assert "SIGKILL" in row.metadata["error"]
    assert MicroAgent.select().count() == 0


def test_cancel_stops_the_child_and_saves_nothing(agent_store, routine, add_events):
    add_events(agent_store, routine(25))
    sid = queue_training(agent_store)
    steps = []
    out = TrainingRunner(agent_store.data_dir).run(
        sid,
        on_progress=lambda p: steps.append(p.step),
        should_stop=lambda: bool(steps),
        max_steps=200,
    )
    assert out.status == TrainingSession.get_by_id(sid).status == "cancelled"
    assert MicroAgent.select().count() == 0 and len(steps) < 200


def test_too_little_data_fails_with_a_clear_message(agent_store, routine, add_events):
    add_events(agent_store, routine(1))
    sid = queue_training(agent_store)
    out = TrainingRunner(agent_store.data_dir).run(sid)
    assert out.status == "failed" and "not enough activity" in out.error
