"""AppState: the one object every dock, the tray and the main window share.

It owns the store, the thread pool and the background services (collection, the trigger check,
the training queue runner, prediction serving), and turns their results into Qt signals that
carry plain data. Widgets never run pipeline work themselves; they call the methods here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from selflow_qt.app import messages
from selflow_qt.core.settings import Settings
from selflow_qt.core.wording import collection_line
from selflow_qt.demo.folder import is_demo_dir
from selflow_qt.store.context import StoreContext
from selflow_qt.ui.state_training import Trainings
from selflow_qt.workers import analysis as analysis_jobs
from selflow_qt.workers import jobs
from selflow_qt.workers.worker import Worker, run_in_worker

log = logging.getLogger(__name__)

TRIGGER_EVERY_MS = 60_000
DEMO_FOLDER_MESSAGE = "Demo data folder: live capture is off here (your activity is not mixed in)."
SUGGEST_EVERY_MS = 60_000
QUEUE_EVERY_MS = 30_000


class AppState(Trainings, QObject):
    """Shared state and background services (its trainings: ui.state_training)."""

    dataChanged = Signal()
    analysisStarted = Signal()
    analysisProgress = Signal(str, float)
    analysisFinished = Signal(object)
    analysisFailed = Signal(str)
    analysisCancelled = Signal()
    trainingStarted = Signal(int)
    trainingProgress = Signal(object)
    trainingFinished = Signal(object)
    suggestionsChanged = Signal(object)
    notificationsChanged = Signal()
    settingsChanged = Signal()
    importProgress = Signal(str, int, int)
    importFinished = Signal(object)
    # beyond the contract
    collectionChanged = Signal(object)  # jobs.CollectionState
    triggerChecked = Signal(object)  # analyze.trigger.TriggerReport
    banditChanged = Signal()  # suggestions logged, outcomes scored or a choice recorded
    message = Signal(str)  # one line for the status bar / log
    notify = Signal(str, str)  # title, body: shown as a tray message

    def __init__(
        self,
        data_dir: str | Path,
        start_services: bool = True,
        parent: QObject | None = None,
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = StoreContext.open(data_dir)
        self.data_dir: Path = self.ctx.data_dir
        self.settings: Settings = self.ctx.settings
        self.pool: QThreadPool = pool or QThreadPool(self)
        self.pool.setMaxThreadCount(max(4, self.pool.maxThreadCount()))
        self.suggestions: list = []
        self.collection: jobs.CollectionState | None = None
        self.last_trigger: Any = None
        self.services_started = False
        self._collector: Worker | None = None
        self._analysis: Worker | None = None
        self._trigger: Worker | None = None
        self._suggest: Worker | None = None
        self._incremental: Worker | None = None
        self.live_capture = not is_demo_dir(self.data_dir)  # a demo folder gets no live events
        self._paused = False
        self._suggestions_job = jobs.SuggestionsJob(self.data_dir)
        self._timers: list[QTimer] = []
        self._stopping = False
        self._init_trainings()
        if start_services:
            self.start_services()

    # -- store access ----------------------------------------------------------------------------
    def read_db(self):
        """The Peewee database; on the GUI thread use it only for cheap aggregates."""
        return self.ctx.db

    def job_context(self) -> StoreContext:
        """A StoreContext for a job, with the current settings (connections are per thread)."""
        return StoreContext(data_dir=self.data_dir, settings=self.settings, db=self.ctx.db)

    def run(self, fn, *args, **callbacks) -> Worker:
        """Run ``fn`` on this state's pool (see workers.worker.run_in_worker)."""
        return run_in_worker(fn, *args, pool=self.pool, **callbacks)

    # -- services --------------------------------------------------------------------------------
    def start_services(self) -> None:
        """Collection, the trigger check every minute, the training queue and predictions."""
        if self.services_started:
            return
        self.services_started = True
        if self.live_capture:
            self.start_collection()
        else:
            QTimer.singleShot(0, lambda: self.message.emit(DEMO_FOLDER_MESSAGE))
        if self.settings.warnings:  # a broken settings.json: say what was ignored, carry on
            QTimer.singleShot(3_000, self._warn_settings)
        self._every(TRIGGER_EVERY_MS, self.check_trigger)
        self._every(int(self.settings.incremental_every_s * 1000), self.check_incremental)
        QTimer.singleShot(20_000, self.check_incremental)
        self._every(QUEUE_EVERY_MS, self.run_training_queue)
        self._every(SUGGEST_EVERY_MS, self.refresh_suggestions)
        QTimer.singleShot(2_000, self.refresh_suggestions)
        QTimer.singleShot(5_000, self.check_trigger)

    def _every(self, ms: int, slot) -> QTimer:
        t = QTimer(self)
        t.setInterval(ms)
        t.timeout.connect(slot)
        t.start()
        self._timers.append(t)
        return t

    def start_collection(self) -> None:
        if self._paused or (self._collector is not None and not self._collector.is_done):
            return
        self._collector = self.run(
            jobs.collection_job,
            self.job_context(),
            on_progress=self._on_collection,
            on_error=self._on_collection_error,
        )

    def stop_collection(self) -> None:
        if self._collector is not None:
            self._collector.cancel()

    @property
    def collection_paused(self) -> bool:
        return self._paused

    def collection_line(self, collection: Any = None) -> str:
        """The collection's one line (of ``collection``, a state just reported, or the last one),
        as the tray and the status bar show it."""
        return collection_line(
            collection if collection is not None else self.collection,
            live_capture=self.live_capture,
            paused=self._paused,
            started=self.services_started,
        )

    def pause_collection(self) -> None:
        """Stop recording until resumed (the tray's Pause collection)."""
        self._paused = True
        self.stop_collection()
        self.message.emit("Collection paused: nothing is recorded until you resume.")
        self.collectionChanged.emit(self.collection)

    def resume_collection(self) -> None:
        self._paused = False
        if self.live_capture:
            self.start_collection()
            self.message.emit("Collection resumed.")
        self.collectionChanged.emit(self.collection)

    def _warn_settings(self) -> None:
        line, title, body = messages.settings_warning(self.settings.warnings)
        self.message.emit(line)
        self.notify.emit(title, body)

    def _on_collection(self, state: jobs.CollectionState) -> None:
        self.training_clock.collected(state.written)
        self.collection = state
        self.collectionChanged.emit(state)

    def _on_collection_error(self, message: str) -> None:
        log.error("collection stopped: %s", message)
        self.collection = jobs.CollectionState(running=False, error=message)
        self.collectionChanged.emit(self.collection)
        self.message.emit(f"Collection stopped: {message}")

    def check_trigger(self) -> None:
        """Ask the trigger policy (on a worker) and start a cycle when it says so."""
        if self._busy(self._trigger) or self._busy(self._analysis):
            return
        self._trigger = self.run(
            analysis_jobs.trigger_job,
            self.job_context(),
            on_result=self._on_trigger,
            on_error=lambda m: log.info("trigger check: %s", m),
        )

    def check_incremental(self) -> None:
        """Assign new events to known patterns; an emerging group becomes a named pattern."""
        if self._stopping or self._busy(self._incremental) or self._busy(self._analysis):
            return
        self._incremental = self.run(
            analysis_jobs.incremental_job,
            self.job_context(),
            on_result=self._on_incremental,
            on_error=lambda m: log.info("incremental detection: %s", m),
        )

    def _on_incremental(self, result) -> None:
        new = getattr(result, "new_patterns", None) or []
        if new:
            self.message.emit(messages.new_patterns_line(new))
            self.notificationsChanged.emit()  # the tray turns the new notifications into messages
            self.refresh()

    def _on_trigger(self, report) -> None:
        self.last_trigger = report
        self.triggerChecked.emit(report)
        if getattr(report, "ready", False):
            self.start_analysis(trigger="budget")

    # -- analysis --------------------------------------------------------------------------------
    @property
    def analysis_running(self) -> bool:
        return self._busy(self._analysis)

    def start_analysis(self, trigger: str = "manual") -> bool:
        if self.analysis_running:
            self.message.emit("An analysis is already running.")
            return False
        self._analysis = self.run(
            analysis_jobs.analysis_job,
            self.job_context(),
            trigger,
            on_progress=lambda p: self.analysisProgress.emit(str(p[0]), float(p[1])),
            on_result=self._on_analysis,
            on_error=self._on_analysis_failed,
            on_cancelled=self._on_analysis_cancelled,
        )
        self.analysisStarted.emit()
        self.message.emit("Analysis started.")
        return True

    def cancel_analysis(self) -> None:
        if self._analysis is not None:
            self._analysis.cancel()

    def _on_analysis(self, result) -> None:
        self.analysisFinished.emit(result)
        self.message.emit(messages.analysis_line(result))
        self.notificationsChanged.emit()
        self.refresh()
        self.refresh_suggestions(force=True)
        self.check_trigger()  # the trigger's report (cold start, ETA) changed with the cycle
        self.run_training_queue()

    def _on_analysis_cancelled(self) -> None:
        self.analysisCancelled.emit()
        self.message.emit("Analysis cancelled.")

    def _on_analysis_failed(self, message: str) -> None:
        self.analysisFailed.emit(message)
        self.message.emit(f"Analysis failed: {message}")

    # -- predictions -----------------------------------------------------------------------------
    def refresh_suggestions(self, force: bool = False) -> None:
        """New "Up next" guesses on a worker (``force``: even if no event arrived since)."""
        if self._stopping or self._busy(self._suggest):
            return
        self._suggest = self.run(
            self._suggestions_job.refresh,
            5,
            force,
            on_result=self._on_suggestions,
            on_error=lambda m: log.info("suggestions unavailable: %s", m),
        )

    def _on_suggestions(self, suggestions: list | None) -> None:
        if suggestions is not None or getattr(self._suggestions_job, "last_resolved", 0):
            self.banditChanged.emit()  # logged suggestions and scored outcomes move its arms
        if suggestions is None:  # nothing new happened: the current suggestions stand
            return
        self.suggestions = suggestions
        self.suggestionsChanged.emit(suggestions)

    def record_choice(self, interaction_id: int | None) -> None:
        if interaction_id is None:
            return
        self.run(
            self._suggestions_job.record_choice,
            int(interaction_id),
            on_result=lambda _i: self.banditChanged.emit(),
            on_error=lambda m: self.message.emit(f"Could not record the choice: {m}"),
        )

    # -- imports, roots, agents, settings ----------------------------------------------------------
    def import_paths(self, paths: list[str]) -> Worker:
        """Import dropped files by content; other files and folders become watched roots."""
        return self.run(
            jobs.import_job,
            self.job_context(),
            [str(p) for p in paths],
            on_progress=lambda p: self.importProgress.emit(str(p[0]), int(p[1]), int(p[2])),
            on_result=self._on_imported,
            on_error=lambda m: self._on_imported(jobs.ImportReport(errors={"": m})),
        )

    def _on_imported(self, report: jobs.ImportReport) -> None:
        self.message.emit(messages.import_line(report))
        if report.watched:
            self.settingsChanged.emit()
        self.importFinished.emit(report)
        self.refresh()

    def add_watch_roots(self, paths: list[str]) -> list[str]:
        roots = jobs.add_watch_roots(self.job_context(), [str(p) for p in paths])
        self.settingsChanged.emit()
        self._restart_collection()
        return roots

    def retire_agent(self, model_id: str, name: str = "the agent") -> None:
        """Stop using an agent; ``name`` is how the status bar calls it (never its id)."""
        self.run(
            jobs.retire_agent_job,
            self.job_context(),
            model_id,
            on_result=lambda _m: (self.message.emit(f"Retired {name}."), self.refresh()),
            on_error=lambda m: self.message.emit(f"Could not retire {name}: {m}"),
        )

    def save_settings(self, settings: Settings) -> None:
        old = self.settings
        settings.save(self.data_dir)
        self.settings = settings
        self.ctx.settings = settings
        self.settingsChanged.emit()
        if settings.collection_differs(old):
            self._restart_collection()
        self.refresh()

    def _restart_collection(self) -> None:
        if not self.services_started or self._collector is None:
            return
        old = self._collector
        old.cancel()
        old.signals.finished.connect(self.start_collection)

    def refresh(self) -> None:
        self.dataChanged.emit()

    # -- shutdown --------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 45_000) -> bool:
        """Stop timers, cancel every job (collection flushes its queue) and wait for them.

        The wait outlasts the training runner's grace (SIGTERM, then SIGKILL after 30 s), so a
        training child never outlives the app.
        """
        self._stopping = True
        for t in self._timers:
            t.stop()
        workers = (self._collector, self._analysis, self._training, self._trigger, self._suggest)
        for w in (*workers, self._incremental):
            if w is not None:
                w.cancel()
        ok = Worker.wait_all(timeout_ms)
        self.pool.waitForDone(max(100, timeout_ms // 4))
        analysis_jobs.close_analysis(self.data_dir)
        return ok

    @staticmethod
    def _busy(worker: Worker | None) -> bool:
        return worker is not None and not worker.is_done
