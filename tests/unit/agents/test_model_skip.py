"""A pattern where the language model added nothing trains no adapter until its data grows."""

from __future__ import annotations

import time
from pathlib import Path

from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.training.child_process import write_job_inputs
from selflow_qt.agents.training.model_verdict import model_record, model_skip
from selflow_qt.agents.training.runner import session_events
from selflow_qt.agents.training.train_child import run_job
from selflow_qt.store.models import TrainingSession

USELESS = {"share": 0.0, "useful": False, "judged": True, "judged_size": 400, "skipped": None}


def _trained(pattern_id: int | None, lm: dict, size: int = 400, **meta) -> None:
    TrainingSession.create(
        model_id=f"agent-p{pattern_id}-{time.time_ns()}",
        status="completed",
        completed_at=time.time(),
        training_data_size=size,
        metadata={"pattern_id": pattern_id, "lm": lm, **meta},
    )


def test_the_model_is_left_out_until_the_patterns_data_grew_by_half(store):
    assert model_skip(3, 450) == (None, None)  # never trained: the model is tried
    _trained(3, USELESS)
    reason, verdict = model_skip(3, 450)
    assert "added +0.000" in reason and "601 events (now 450)" in reason
    assert verdict == USELESS
    assert model_skip(3, 601) == (None, None)  # grown by half: tried again
    assert model_skip(4, 450) == (None, None)  # another pattern
    _trained(5, {**USELESS, "judged": False})  # too few positions to judge it: tried again
    assert model_skip(5, 450) == (None, None)
    _trained(6, {**USELESS, "useful": True, "share": 0.02})
    assert model_skip(6, 450) == (None, None)  # it helped
    _trained(7, {**USELESS, "useful": True, "share": -0.01})  # used, and worse than without
    assert model_skip(7, 450)[0] is not None
    # no first guess gained, but never-typed lines among the five shown: it is trained again
    _trained(8, {**USELESS, "useful": True, "share": 0.0, "novel5": 0.13})
    assert model_skip(8, 450) == (None, None)
    _trained(None, USELESS)  # the general agent (all activity) is judged as its own
    assert model_skip(None, 450)[0] is not None
    assert model_skip(None, 450, "deploy") == (None, None)  # a workflow's agent is another


def test_a_training_that_left_the_model_out_keeps_the_verdict_it_was_left_out_on(store):
    _trained(3, USELESS)
    reason, verdict = model_skip(3, 450)
    record = model_record({"lm_skipped": reason, "lm_verdict": verdict}, {"lm_share": 0.0})
    assert record["judged_size"] == 400 and record["skipped"] == reason
    _trained(3, record, size=450)
    assert model_skip(3, 500)[0] is not None  # still measured against 400 events
    assert model_skip(3, 601) == (None, None)


def test_a_job_that_leaves_the_model_out_loads_none_and_trains_no_adapter(
    store, routine, add_events, tmp_path
):
    add_events(store, routine(30))
    events, _ = session_events(store.db, {})
    (tmp_path / "job").mkdir()
    events_path, config = write_job_inputs(events, tmp_path / "job", store.settings, 2)
    stream = keyed(events)
    out = tmp_path / "agent"
    job = {
        "model_id": "agent-p3-test",
        "data_dir": str(store.data_dir),
        "events_path": str(events_path),
        "split_ts": stream[int(len(stream) * 0.9)][0].ts,
        "config": config,
        "out_dir": str(out),
        "work_dir": str(tmp_path / "job"),
        # no such model: loading one would fail the job
        "base_model": {"kind": "path", "location": str(tmp_path / "none"), "description": "-"},
        "eval_positions": 10,
        "lm_skipped": "the model added nothing",
    }
    messages: list[dict] = []
    meta = run_job(job, messages.append)
    assert meta["training"]["adapter"] == "skipped" and meta["training"]["steps"] == 0
    assert meta["ranker"]["lm_useful"] is False
    assert meta["ranker"]["lm_reason"] == "the model added nothing"
    assert meta["lm_share"] == 0.0 and meta["lora"] is None
    assert "agent-p3-test" in meta["metrics"]
    assert (out / "agent.json").exists()
    assert not list(out.glob("adapter_model*"))
    assert messages[-1]["event"] == "result"
    assert Path(events_path).exists()
