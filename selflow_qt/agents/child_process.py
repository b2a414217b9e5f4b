"""Starting and supervising the training child process (shared by sessions and `selflow eval`)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selflow_qt.core.child import child_env, exit_reason
from selflow_qt.core.event import Event, event_from_json
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.files import open_private


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


def read_jsonl(path: Path) -> list[Event]:
    """Events of an interchange file, in file order; a bad line raises ValueError naming it."""
    events = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                events.append(event_from_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: {exc}") from None
    return events


EXIT_CANCELLED = 3  # the child stopped on SIGTERM (or its parent's end) and saved nothing


@dataclass
class ChildResult:
    code: int
    result: dict | None  # the child's final "result" message
    cancelled: bool
    stderr_tail: str
    last_loss: float | None

    @property
    def ok(self) -> bool:
        return self.code == 0 and self.result is not None and not self.cancelled

    def error(self) -> str:
        """What went wrong, in one line a user can act on."""
        if self.cancelled:
            return "cancelled by the user"
        if self.code == EXIT_CANCELLED:
            return "the training process was stopped (SIGTERM) before it finished"
        if self.code == 4:
            return "the training process ran out of memory"
        return exit_reason(self.code, self.stderr_tail, "the training process")


def run_training_child(
    job_path: Path,
    *,
    on_message: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_start: Callable[[subprocess.Popen], None] | None = None,
    python: str | None = None,
    env: dict | None = None,
) -> ChildResult:
    """Run ``train_child`` on a job file until it ends; stderr goes next to the job file.

    The child ends with this process (``core.child``): it is told this process's pid."""
    job_path = Path(job_path)
    stderr_path = job_path.with_name("stderr.log")
    env_ = child_env(env)
    env_.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env_["PYTHONUNBUFFERED"] = "1"
    result, last_loss = None, None
    cancelled = threading.Event()
    from selflow_qt.agents import train_child  # here: it imports this module

    with open_private(stderr_path) as err:
        proc = subprocess.Popen(
            [python or sys.executable, "-m", train_child.__name__, str(job_path)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env_,
            umask=0o077,  # the adapter and everything else it writes are private
        )
        if on_start is not None:
            on_start(proc)
        if should_stop is not None:
            threading.Thread(
                target=_watch_stop, args=(proc, should_stop, cancelled), daemon=True
            ).start()
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("event") == "progress":
                last_loss = msg.get("loss")
            elif msg.get("event") == "result":
                result = msg
            if on_message is not None:
                on_message(msg)
        code = proc.wait()
    tail = stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    return ChildResult(code, result, cancelled.is_set(), tail, last_loss)


def _watch_stop(proc: subprocess.Popen, should_stop, cancelled: threading.Event) -> None:
    while proc.poll() is None:
        if should_stop():
            cancelled.set()
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            return
        time.sleep(0.2)
