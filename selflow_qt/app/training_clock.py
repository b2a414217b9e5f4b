"""What the training queue runner weighs besides the user's policy: how long the user has been
idle (collection wrote no new event) and how long ago the last training ended."""

from __future__ import annotations

import time
from collections.abc import Callable

from selflow_qt.core.training_policy import TrainingCost, TrainingGate, may_start_training


class TrainingClock:
    """Activity and training ends, on a monotonic clock; ``gate`` asks core.training_policy."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.active_at = clock()  # when collection last wrote an event
        self.ended_at: float | None = None  # when the last training the app started ended
        self._written = -1
        self._running = False

    def collected(self, written: int) -> None:
        """Collection has written ``written`` events so far: more than before means activity."""
        if written != self._written:
            self._written = written
            self.active_at = self.clock()

    def training_started(self) -> None:
        self._running = True

    def training_ended(self) -> None:
        """Finished, failed or cancelled: an automatic next one waits (no back-to-back runs)."""
        if self._running:
            self.ended_at = self.clock()
        self._running = False

    def gate(
        self,
        policy: str,
        idle_minutes: float,
        *,
        busy: bool,
        live_capture: bool,
        cost: TrainingCost | None = None,
        input_idle_s: float | None = None,
        on_mains: bool | None = None,
    ) -> TrainingGate:
        """Whether the queue runner may start the next queued training now, and why (not).
        Without live capture (a demo folder) collection tells nothing about idleness: a large
        training then needs the keyboard and mouse idle time (``input_idle_s``)."""
        now = self.clock()
        return may_start_training(
            policy,
            queued=True,  # the job itself finds the queue empty (cheaply) and returns None
            busy=busy,
            idle_s=now - self.active_at if live_capture else float("inf"),
            idle_minutes=idle_minutes,
            since_last_s=None if self.ended_at is None else now - self.ended_at,
            cost=cost,
            input_idle_s=input_idle_s,
            on_mains=on_mains,
        )
