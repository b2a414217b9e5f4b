"""AppState's trainings: one at a time in a child process, started by the user or by the queue
runner on the user's policy; each outcome becomes a message and a notification.

``Trainings`` is a part of AppState (one of its bases): it uses the hub's pool, signals, settings
and store context, and keeps the training state the docks read.
"""

from __future__ import annotations

import logging
from typing import Any

from selflow_qt.app import messages
from selflow_qt.app.training_clock import TrainingClock
from selflow_qt.collect import user_idle
from selflow_qt.core.training_policy import TrainingGate, estimate_training
from selflow_qt.workers import jobs
from selflow_qt.workers.worker import Worker

log = logging.getLogger(__name__)


class Trainings:
    """The training part of AppState."""

    def _init_trainings(self) -> None:
        self.last_training_progress: Any = None
        self.training_session_id: int | None = None
        self.training_gate: TrainingGate | None = None  # None until the queue runner has looked
        self.training_reason = ""  # why the current (or last) training started
        self.training_clock = TrainingClock()  # idle time and the rest after a training
        self._training: Worker | None = None

    @property
    def training_running(self) -> bool:
        return self._busy(self._training)

    def start_training(
        self,
        session_id: int | None = None,
        max_steps: int | None = None,
        reason: str = "started by you",
    ) -> bool:
        """Train ``session_id`` (or the next queued session) in a child process, one at a time;
        ``reason``, why it starts, is shown beside it in the Training Center."""
        if self.training_running:
            self.message.emit("A training is already running.")
            return False
        self.last_training_progress = None
        self.training_reason = reason
        self._training = self.run(
            jobs.training_job,
            self.job_context(),
            session_id,
            max_steps,
            on_partial=self._on_training_started,
            on_progress=self._on_training_progress,
            on_result=self._on_training_finished,
            on_error=self._on_training_error,
            on_finished=self._on_training_done,
        )
        return True

    def _on_training_done(self) -> None:
        self.training_clock.training_ended()

    def cancel_training(self) -> None:
        if self._training is not None:
            self._training.cancel()

    def run_training_queue(self) -> None:
        """The queue runner: the next queued session may start on the user's training policy.

        One at a time, never back to back (see core.training_policy); ``training_gate`` says why
        it waits.
        """
        if not self.services_started or self._stopping:
            return
        self.training_gate = self.training_clock.gate(
            self.settings.training_policy,
            self.settings.training_idle_minutes,
            busy=self.training_running or self.analysis_running,
            live_capture=self.live_capture,
            cost=estimate_training(self.settings.train_config),
            input_idle_s=user_idle.input_idle_seconds(),
            on_mains=user_idle.on_mains_power(),
        )
        if self.training_gate.allowed:
            self.start_training(reason=self.training_gate.reason)

    def _on_training_started(self, start) -> None:
        if isinstance(start, jobs.TrainingStart):
            self.training_clock.training_started()
            self.training_session_id = start.session_id
            self.trainingStarted.emit(start.session_id)
            self.message.emit(f"Training session {start.session_id} started.")

    def _on_training_progress(self, progress) -> None:
        self.last_training_progress = progress
        self.trainingProgress.emit(progress)

    def _on_training_finished(self, outcome) -> None:
        self.training_session_id = None
        if outcome is None:  # nothing was queued
            return
        self._note_training(outcome)
        self.trainingFinished.emit(outcome)
        self.refresh()
        self.refresh_suggestions(force=True)  # a new agent may now answer

    def _on_training_error(self, message: str) -> None:
        sid = self.training_session_id
        self.training_session_id = None
        self.message.emit(f"Training failed: {message}")
        if sid is not None:
            outcome = messages.failed_training(sid, message)
            self._note_training(outcome)
            self.trainingFinished.emit(outcome)

    def _note_training(self, outcome) -> None:
        """Say how a training ended; notify unless the runner already did."""
        try:
            line = jobs.note_training(outcome)
        except Exception:
            log.exception("could not record the training notification")
            line = f"Training {getattr(outcome, 'status', '')}"
        self.message.emit(line)
        self.notificationsChanged.emit()

    def queue_training(self, pattern_id: int | None = None) -> Worker:
        return self.run(
            jobs.queue_training_job,
            self.job_context(),
            pattern_id,
            on_result=lambda sid: (self.message.emit(f"Queued training {sid}."), self.refresh()),
            on_error=lambda m: self.message.emit(f"Could not queue training: {m}"),
        )
