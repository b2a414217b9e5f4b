"""Starting the training child process through ``core.supervisor`` (shared by sessions and
`selflow eval`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selflow_qt.agents.training import train_child
from selflow_qt.agents.training.train_child import read_jsonl
from selflow_qt.core import supervisor
from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.files import open_private

__all__ = ["ChildResult", "read_jsonl", "run_training_child", "write_job_inputs"]


def write_job_inputs(
    events: list[Event], folder: Path, settings: Any, max_steps: int | None
) -> tuple[Path, dict]:
    """Write the child's events file into ``folder``; returns (its path, the LoRA/train config)."""
    events_path = folder / "events.jsonl"
    privacy = PrivacyFilter()  # a database written before today's rules may still hold secrets
    with open_private(events_path) as fh:
        for ev in events:
            clean = privacy.apply(ev)
            if clean is not None:
                fh.write(clean.to_json() + "\n")
    config = {
        "lora_r": settings.lora_r,
        "lora_alpha": settings.lora_alpha,
        "lora_dropout": settings.lora_dropout,
        **settings.train_config,
    }
    if max_steps is not None:
        config["max_steps"] = int(max_steps)
    return events_path, config


@dataclass
class ChildResult:
    exit: supervisor.ChildExit
    result: dict | None  # the child's final "result" message
    last_loss: float | None

    @property
    def ok(self) -> bool:
        return self.exit.ok and self.result is not None

    @property
    def cancelled(self) -> bool:
        return self.exit.reason == supervisor.CANCELLED

    @property
    def code(self) -> int | None:
        return self.exit.code

    @property
    def stderr_tail(self) -> str:
        """The end of the child's log (redacted)."""
        if self.exit.log is None:
            return ""
        try:
            return self.exit.log.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return ""

    def error(self) -> str:
        """What went wrong, in one line a user can act on."""
        return self.exit.message or "the training process ended without a result"


def run_training_child(
    job_path: Path,
    *,
    on_message: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_start: Callable[[supervisor.Child], None] | None = None,
    python: str | None = None,
    env: dict | None = None,
) -> ChildResult:
    """Run ``train_child`` on a job file until it ends (``core.supervisor``); its output goes to
    ``<data>/logs/training-<stamp>.log``. Everything it writes is private (umask 077)."""
    job_path = Path(job_path)
    job = json.loads(job_path.read_text(encoding="utf-8"))
    last_loss: list[float | None] = [None]

    def on_tagged(message: tuple[str, Any]) -> None:
        msg = message[1]
        if not isinstance(msg, dict):
            return
        if msg.get("event") == "progress":
            last_loss[0] = msg.get("loss")
        if on_message is not None:
            on_message(msg)

    child = supervisor.start(
        train_child.child_main,
        str(job_path),
        kind="training",
        data_dir=Path(job["data_dir"]) if job.get("data_dir") else None,
        what="the training process",
        env={**(env or {}), "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"},
        python=python,
        umask=0o077,  # the adapter and everything else it writes are private
        cleanup=[Path(job["work_dir"])] if job.get("work_dir") else [],  # an orphan removes it
    )
    if on_start is not None:
        on_start(child)
    out = child.wait(on_message=on_tagged, should_stop=should_stop)
    assert out is not None  # no timeout: it ended
    result = out.result if out.ok and isinstance(out.result, dict) else None
    return ChildResult(out, result, last_loss[0])
