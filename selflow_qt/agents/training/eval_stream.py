"""`selflow eval next-event`: train an agent on the earlier part of any event stream (in the child
process) and score every predictor on the rest, on the same positions."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from selflow_qt.agents.evaluation.evaluation import Metrics
from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.training.child_process import read_jsonl as read_events
from selflow_qt.agents.training.child_process import run_training_child, write_job_inputs
from selflow_qt.core.child import run_folder
from selflow_qt.core.event import Event


def read_jsonl(path: Path) -> list[Event]:
    """Events of an interchange file in time order; a bad line raises ValueError naming it."""
    return sorted(read_events(path), key=lambda e: e.ts)


def evaluate_stream(
    events: list[Event],
    data_dir: Path,
    settings,
    *,
    split: float = 0.8,
    max_steps: int | None = None,
    max_positions: int = 200,
    on_message: Callable[[dict], None] | None = None,
    keep_adapter: Path | None = None,
) -> tuple[dict[str, Metrics], dict]:
    """(metrics per predictor, the child's result); raises RuntimeError when training fails."""
    from selflow_qt.agents.model.base_model import resolve_base_model
    from selflow_qt.agents.training.budget import long_run

    if not 0.0 < split < 1.0:
        raise ValueError(f"--split must be between 0 and 1, got {split}")
    stream = keyed(events)
    if len(stream) < 30:
        raise ValueError(f"only {len(stream)} predictable actions; at least 30 are needed")
    split_ts = stream[int(len(stream) * split)][0].ts
    spec = resolve_base_model(settings, data_dir)
    work = run_folder("eval")  # named after this process: a killed run's is removed next time
    try:
        events_path, config = write_job_inputs(events, work, settings, max_steps)
        out_dir = keep_adapter or (work / "agent")
        job = {
            "model_id": "agent-eval",
            "data_dir": str(data_dir),
            "events_path": str(events_path),
            "split_ts": split_ts,
            "config": config,
            "out_dir": str(out_dir),
            "work_dir": str(work),
            "base_model": asdict(spec),
            "eval_positions": max_positions,
            "lm_positions": 60 if settings.lm_positions is None else settings.lm_positions,
            "specialization": "eval",
            "convert": long_run(max_steps),
        }
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        child = run_training_child(work / "job.json", on_message=on_message)
        if not child.ok:
            raise RuntimeError(f"training failed: {child.error()}")
        result = child.result or {}
        metrics = {name: Metrics(**m) for name, m in result["metrics"].items()}
        return metrics, result
    finally:
        shutil.rmtree(work, ignore_errors=True)
