"""When a queued training may start by itself: one at a time, on the user's policy, never back to back.

Policies (``Settings.training_policy``):
- ``ask``: never by itself; the Training Center's "Train now" starts it.
- ``when_idle`` (default): after ``training_idle_minutes`` without activity.
- ``always``: as soon as nothing else runs.
Whatever the policy, an automatic training waits ``GAP_S`` after the previous one ended (finished,
failed or cancelled), so a queue of five never becomes half an hour of full CPU unasked.
A large training (over ``LARGE_BYTES`` of memory or ``LARGE_SECONDS``) starts by itself only while
the user is really idle: keyboard and mouse at rest where the platform tells, else no new
activity recorded; a folder with no live capture (a demo folder) tells nothing, so it waits for
Train now. It also waits while the computer runs on battery (where that is known).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from selflow_qt.core.format import human_bytes, human_duration

GAP_S = 15 * 60.0
LARGE_BYTES = 1 << 30
LARGE_SECONDS = 120.0
# Rough costs on a CPU, from the bundled SmolLM2-135M (0.54 GB of float32 weights): training
# holds weights, LoRA optimiser state and activations, ~4x the weights plus the interpreter.
DEFAULT_WEIGHT_BYTES = 135_000_000 * 4
SECONDS_PER_EXAMPLE = 0.15  # a forward and backward pass of one 128-token example, 2 cores
DEFAULT_STEPS, DEFAULT_BATCH = 400, 8  # agents.model.trainer.TrainConfig's defaults


@dataclass(frozen=True)
class TrainingCost:
    """What a training would take, roughly: peak memory and time."""

    bytes: int
    seconds: float

    @property
    def large(self) -> bool:
        return self.bytes > LARGE_BYTES or self.seconds > LARGE_SECONDS

    def words(self) -> str:
        return f"about {human_bytes(self.bytes)} and {human_duration(self.seconds)}"


def estimate_training(
    train_config: dict[str, Any] | None = None, weight_bytes: int | None = None
) -> TrainingCost:
    """The cost of one training with ``train_config``'s overrides (steps, batch size)."""
    cfg = train_config or {}
    weights = weight_bytes or DEFAULT_WEIGHT_BYTES
    steps = int(cfg.get("max_steps", DEFAULT_STEPS))
    batch = int(cfg.get("batch_size", DEFAULT_BATCH))
    return TrainingCost(4 * weights + 300 * 2**20, steps * batch * SECONDS_PER_EXAMPLE)


@dataclass(frozen=True)
class TrainingGate:
    allowed: bool
    reason: str  # one line for the Training Center: why it starts now, or what it waits for


def may_start_training(
    policy: str,
    *,
    queued: bool,
    busy: bool,
    idle_s: float,
    idle_minutes: float,
    since_last_s: float | None,
    gap_s: float = GAP_S,
    cost: TrainingCost | None = None,
    input_idle_s: float | None = None,
    on_mains: bool | None = None,
) -> TrainingGate:
    """Whether the queue runner may start the next queued training now, and why (not).

    ``idle_s``: time since collection last recorded activity (infinite where nothing is captured
    live); ``input_idle_s``: keyboard and mouse idle time where the platform gives it;
    ``on_mains``: None where the power source is unknown."""
    if not queued:
        return TrainingGate(False, "nothing queued")
    if busy:
        return TrainingGate(False, "waiting: an analysis or a training is running")
    if policy == "ask":
        return TrainingGate(False, "policy 'ask': start it with Train now")
    if since_last_s is not None and since_last_s < gap_s:
        left = (gap_s - since_last_s) / 60
        return TrainingGate(False, f"waiting: {left:.0f} min rest after the last training")
    if cost is not None and cost.large:
        return _large_gate(cost, idle_s, idle_minutes, input_idle_s, on_mains)
    if policy == "when_idle" and idle_s < idle_minutes * 60:
        left = idle_minutes - idle_s / 60
        return TrainingGate(
            False,
            f"policy 'when idle': starts after {idle_minutes:.0f} idle minutes ({left:.0f} to go)",
        )
    return TrainingGate(True, f"policy '{policy.replace('_', ' ')}': starting")


def _large_gate(
    cost: TrainingCost,
    idle_s: float,
    idle_minutes: float,
    input_idle_s: float | None,
    on_mains: bool | None,
) -> TrainingGate:
    what = f"a large training ({cost.words()})"
    if on_mains is False:
        return TrainingGate(False, f"waiting: on battery, {what} waits for mains power")
    if input_idle_s is not None:
        idle, how = input_idle_s, "keyboard and mouse idle"
    elif math.isfinite(idle_s):
        idle, how = idle_s, "no new activity recorded"
    else:
        return TrainingGate(
            False,
            f"waiting: {what} starts by itself only while you are idle, and SelFlow cannot tell "
            "here (no input idle time, no live capture); start it with Train now",
        )
    if idle < idle_minutes * 60:
        left = idle_minutes - idle / 60
        return TrainingGate(
            False,
            f"waiting: {what} starts after {idle_minutes:.0f} idle minutes ({left:.0f} to go)",
        )
    power = "on mains power" if on_mains else "power source unknown"
    return TrainingGate(True, f"started by itself: {how} for {idle / 60:.0f} min, {power}; {what}")
