"""When a queued training may start by itself: one at a time, on the user's policy, never back to back.

Policies (``Settings.training_policy``):
- ``ask``: never by itself; the Training Center's "Train now" starts it.
- ``when_idle`` (default): after ``training_idle_minutes`` without activity.
- ``always``: as soon as nothing else runs.
Whatever the policy, an automatic training waits ``GAP_S`` after the previous one ended (finished,
failed or cancelled), so a queue of five never becomes half an hour of full CPU unasked.
"""

from __future__ import annotations

from dataclasses import dataclass

GAP_S = 15 * 60.0


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
) -> TrainingGate:
    """Whether the queue runner may start the next queued training now, and why (not)."""
    if not queued:
        return TrainingGate(False, "nothing queued")
    if busy:
        return TrainingGate(False, "waiting: an analysis or a training is running")
    if policy == "ask":
        return TrainingGate(False, "policy 'ask': start it with Train now")
    if since_last_s is not None and since_last_s < gap_s:
        left = (gap_s - since_last_s) / 60
        return TrainingGate(False, f"waiting: {left:.0f} min rest after the last training")
    if policy == "when_idle" and idle_s < idle_minutes * 60:
        left = idle_minutes - idle_s / 60
        return TrainingGate(
            False,
            f"policy 'when idle': starts after {idle_minutes:.0f} idle minutes ({left:.0f} to go)",
        )
    return TrainingGate(True, f"policy '{policy.replace('_', ' ')}': starting")
