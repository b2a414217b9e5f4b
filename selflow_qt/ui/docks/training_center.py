"""Training Center dock: data buffer, training queue, live training with its loss curve, rankings."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.agents.serving import leaderboard
from selflow_qt.analyze.trigger import budget_text
from selflow_qt.core.format import consensus_text, count, human_bytes, human_duration
from selflow_qt.store.queries import training as dock_reads
from selflow_qt.ui.docks.base import (
    NO_ANALYSIS,
    BackgroundLoader,
    fill_table,
    make_table,
)
from selflow_qt.ui.docks.training_live import LiveTrainingPanel
from selflow_qt.ui.docks.training_ranking import ModelPerformanceBox

LIVE_REFRESH_S = 10.0  # new events re-read a visible dock at most this often


def next_cycle_text(b: Any) -> str:
    """After the first analysis: when the byte budget will call for the next one."""
    target = f"{100 * b.target_ratio:.0f}%"
    if b.eta_s is None:
        return f"next full analysis at {target}: no recent data to estimate when"
    if b.eta_s == 0:
        return f"past {target}: the next full analysis runs when the other checks pass"
    rate = f"{human_bytes(b.rate_bytes_per_s * 3600)}/h"
    if b.eta_s > 365 * 86_400:
        return f"next full analysis: over a year away at {rate} (at {target})"
    return f"next full analysis in ~{human_duration(b.eta_s)} at {rate} (at {target})"


def requeue_candidate(data: Any) -> Any:
    """The latest cancelled or failed training of a pattern that is not queued again yet."""
    busy = {q.pattern_id for q in data.queue}
    for s in data.recent:
        if s.status in ("cancelled", "failed") and s.pattern_id is not None:
            return None if s.pattern_id in busy else s
    return None


class TrainingCenterDock(QWidget):
    """What the learning machinery is doing: buffer, queue, active training, models, clusters."""

    def __init__(self, state: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.data: leaderboard.TrainingCenterData | None = None
        self._refreshed_at = 0.0
        self._seen_written: int | None = None
        self._loader = BackgroundLoader(
            self, self._apply, self._load_failed, getattr(state, "pool", None)
        )
        self._build()
        self._connect()
        self.refresh()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        inner = QWidget()
        cols = QHBoxLayout(inner)
        cols.setContentsMargins(8, 8, 8, 8)
        cols.setSpacing(10)
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(self._buffer_box())
        left.addWidget(self._training_box(), 1)
        right.addWidget(self._queue_box())
        self.performance = ModelPerformanceBox()
        right.addWidget(self.performance, 1)
        right.addWidget(self._clustering_box())
        cols.addLayout(left, 1)
        cols.addLayout(right, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumSize(640, 480)

    def _buffer_box(self) -> QGroupBox:
        box = QGroupBox("Data buffer")
        lay = QVBoxLayout(box)
        self.buffer_bar = QProgressBar()
        self.buffer_bar.setRange(0, 1000)
        self.buffer_bar.setFormat("—")
        self.buffer_label = QLabel("Reading the store…")
        self.buffer_label.setWordWrap(True)
        self.trigger_label = QLabel("")
        self.trigger_label.setWordWrap(True)
        self.trigger_label.setStyleSheet("color: #505050;")
        self.budget_label = QLabel("")  # what the budget means, and what happens meanwhile
        self.budget_label.setWordWrap(True)
        self.budget_label.setStyleSheet("color: #505050;")
        row = QHBoxLayout()
        self.analysis_button = QPushButton("Run analysis now")
        self.analysis_button.clicked.connect(self._run_analysis)
        self.analysis_status = QLabel("")
        row.addWidget(self.analysis_button)
        row.addWidget(self.analysis_status, 1)
        lay.addWidget(self.buffer_bar)
        lay.addWidget(self.buffer_label)
        lay.addWidget(self.trigger_label)
        lay.addWidget(self.budget_label)
        lay.addLayout(row)
        return box

    def _queue_box(self) -> QGroupBox:
        box = QGroupBox("Training queue")
        lay = QVBoxLayout(box)
        self.queue_table = make_table(["Session", "Pattern", "Status", "Sequences", "Reason"])
        self.queue_table.setWordWrap(False)
        self.queue_table.setMinimumHeight(90)
        self.queue_table.setMaximumHeight(150)
        self.queue_empty = QLabel("Nothing queued — an analysis queues patterns worth an agent.")
        self.queue_empty.setStyleSheet("color: #707070;")
        self.recent_label = QLabel("")
        self.recent_label.setWordWrap(True)
        self.recent_label.setStyleSheet("color: #505050;")
        self.policy_label = QLabel("")  # the training policy, and what the queue waits for
        self.policy_label.setWordWrap(True)
        self.policy_label.setStyleSheet("color: #505050;")
        self.train_button = QPushButton("Train now")
        self.train_button.setToolTip("Train the selected queued session (or the next one)")
        self.train_button.clicked.connect(self._train_now)
        lay.addWidget(self.queue_table)
        lay.addWidget(self.queue_empty)
        lay.addWidget(self.recent_label)
        lay.addWidget(self.policy_label)
        self.requeue_button = QPushButton("Queue again")
        self.requeue_button.setToolTip("Queue a cancelled or failed training of a pattern again")
        self.requeue_button.clicked.connect(self._requeue)
        self.requeue_button.hide()
        self._requeue_pattern: int | None = None
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.requeue_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        return box

    def _training_box(self) -> QGroupBox:
        self.live = LiveTrainingPanel(self.state.cancel_training)
        # Short names for the panel's parts (tests and the e2e test read them).
        self.training_title, self.training_bar = self.live.title, self.live.bar
        self.tps_label, self.cancel_button = self.live.tps_label, self.live.cancel_button
        self.loss_curve, self.val_curve = self.live.loss_curve, self.live.val_curve
        return self.live

    def _clustering_box(self) -> QGroupBox:
        box = QGroupBox("Multi-clustering (latest analysis)")
        lay = QVBoxLayout(box)
        self.clustering_label = QLabel(NO_ANALYSIS)
        self.clustering_label.setWordWrap(True)
        self.clustering_table = make_table(["Algorithm", "Clusters", "Silhouette", "Runtime"])
        self.clustering_table.setMinimumHeight(120)
        self.clustering_table.setMaximumHeight(200)
        lay.addWidget(self.clustering_label)
        lay.addWidget(self.clustering_table, 1)
        return box

    def _connect(self) -> None:
        s = self.state
        s.dataChanged.connect(self.refresh)
        if hasattr(s, "banditChanged"):  # the bandit text follows the Agents dock's signal
            s.banditChanged.connect(self.refresh)
        if hasattr(s, "triggerChecked"):  # the app's minutely check (see AppState)
            s.triggerChecked.connect(self.on_trigger)
        if hasattr(s, "collectionChanged"):  # live: new events re-read the dock (throttled)
            s.collectionChanged.connect(self._on_collection)
        s.trainingStarted.connect(self.on_training_started)
        s.trainingProgress.connect(self.on_training_progress)
        s.trainingFinished.connect(self.on_training_finished)
        s.analysisStarted.connect(self.on_analysis_started)
        s.analysisProgress.connect(self.on_analysis_progress)
        s.analysisFinished.connect(self.on_analysis_finished)
        s.analysisFailed.connect(self.on_analysis_failed)
        s.analysisCancelled.connect(self.on_analysis_cancelled)

    # -- data --------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Re-read the store on a worker; the view updates when the result arrives."""
        self._loader.load(
            dock_reads.read_with,
            self.state.data_dir,
            leaderboard.training_center_data,
            self.state.data_dir,
            self.state.settings,
            False,  # the trigger's pilot clustering never runs inside this read (slow first paint)
        )
        if getattr(self.state, "last_trigger", None) is None and getattr(
            self.state, "services_started", False
        ):
            self.state.check_trigger()  # on its own worker; triggerChecked updates this dock

    def _on_collection(self, c: Any) -> None:
        written = getattr(c, "written", None)
        if written == self._seen_written or not self.isVisible():
            return
        if time.monotonic() - self._refreshed_at >= LIVE_REFRESH_S:
            self._seen_written = written
            self.refresh()

    @Slot(object)
    def on_trigger(self, report: Any) -> None:
        """The app's trigger check: criteria, and a truthful "when" for the next analysis."""
        self.show_trigger(leaderboard.criteria_of(report))
        if self.data is not None:
            self._show_buffer(self.data.buffer, [])

    def _load_failed(self, message: str) -> None:
        self.buffer_label.setText(f"Could not read the store: {message}")

    def _apply(self, data: leaderboard.TrainingCenterData) -> None:
        self.data = data
        self._refreshed_at = time.monotonic()
        self._show_buffer(data.buffer, data.trigger)
        self._show_queue(data)
        self.performance.show_data(data)
        self._show_clustering(data)

    def _show_buffer(self, b: dock_reads.BufferView, trigger: list) -> None:
        self.buffer_bar.setValue(int(min(1.0, b.percent / 100) * 1000))
        self.buffer_bar.setFormat(f"{b.percent:.1f}% of {human_bytes(b.budget_bytes)}")
        report = getattr(self.state, "last_trigger", None)
        if getattr(report, "cold_start", False):
            when = report.first_analysis_text()
        else:
            when = next_cycle_text(b)
        self.buffer_label.setText(
            f"{count(b.events, 'event')}, {human_bytes(b.bytes)} this cycle · {when}"
        )
        self.budget_label.setText(
            budget_text(b.bytes, b.events, b.target_ratio * b.budget_bytes, self.state.settings)
        )
        if trigger:
            self.show_trigger(trigger)
        elif report is not None:
            self.show_trigger(leaderboard.criteria_of(report))

    def show_trigger(self, criteria: list[tuple[str, bool, str]]) -> None:
        """The trigger policy's checks, passed or not, with their details as a tooltip."""
        parts = [f"{'✔' if ok else '✘'} {name}" for name, ok, _ in criteria]
        self.trigger_label.setText("Trigger: " + "   ".join(parts))
        self.trigger_label.setToolTip("\n".join(f"{n}: {d}" for n, _, d in criteria))

    def _show_queue(self, data: leaderboard.TrainingCenterData) -> None:
        rows = [[s.session_id, s.pattern_name, s.status, s.sequences, s.reason] for s in data.queue]
        fill_table(self.queue_table, rows, align_right={0, 3})
        for r, sess in enumerate(data.queue):
            self.queue_table.item(r, 4).setToolTip(sess.reason)
        self.queue_empty.setVisible(not rows)
        self.train_button.setEnabled(bool(rows) and self.session_id is None)
        policy = self.state.settings.training_policy.replace("_", " ")
        gate = getattr(self.state, "training_gate", None)
        waiting = f" · {gate.reason}" if rows and gate is not None and not gate.allowed else ""
        self.policy_label.setText(
            f"Training policy: {policy} (one at a time, a rest between runs; Settings){waiting}"
        )
        if data.recent:
            recent = [
                f"#{s.session_id} {s.pattern_name}: {s.status}"
                + (f" in {human_duration(s.wall_s)}" if s.wall_s is not None else "")
                for s in data.recent[:3]
            ]
            self.recent_label.setText("Recently: " + " · ".join(recent))
        last = next((s for s in data.recent if s.losses), None)
        if last is not None:
            self.live.show_last(last)
        again = requeue_candidate(data)
        self._requeue_pattern = None if again is None else again.pattern_id
        if again is not None:
            self.requeue_button.setText(f"Queue “{again.pattern_name}” again")
        self.requeue_button.setVisible(again is not None)
        self.requeue_button.setEnabled(True)

    def _show_clustering(self, data: leaderboard.TrainingCenterData) -> None:
        c = data.clustering
        if c is None:
            self.clustering_label.setText(NO_ANALYSIS + " (Run analysis now).")
            fill_table(self.clustering_table, [])
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.started_at))
        self.clustering_label.setText(
            f"Run #{c.run_id} at {when} over {count(c.n_events, 'event')} · "
            f"<b>{count(c.n_patterns, 'pattern')}</b> · "
            + consensus_text(c.consensus_score, bold=True)
        )
        rows = [
            [
                a.name,
                a.clusters if a.clusters is not None else "—",
                f"{a.silhouette:.2f}" if a.silhouette is not None else "—",
                f"{a.runtime_s:.1f} s" if a.runtime_s is not None else (a.error or "—"),
            ]
            for a in c.algorithms
        ]
        fill_table(self.clustering_table, rows, align_right={1, 2, 3})

    # -- actions -----------------------------------------------------------------------------
    def selected_session(self) -> int | None:
        rows = self.queue_table.selectionModel().selectedRows()
        if not rows or self.data is None:
            return None
        return self.data.queue[rows[0].row()].session_id

    def _train_now(self) -> None:
        self.state.start_training(self.selected_session())

    def _requeue(self) -> None:
        if self._requeue_pattern is not None:
            self.requeue_button.setEnabled(False)  # until the queue shows it
            self.state.queue_training(self._requeue_pattern)

    def _run_analysis(self) -> None:
        self.analysis_button.setEnabled(False)
        self.state.start_analysis()

    # -- live streams ------------------------------------------------------------------------
    @property
    def session_id(self) -> int | None:
        return self.live.session_id

    @property
    def last_progress(self) -> Any:
        return self.live.last_progress

    @Slot(int)
    def on_training_started(self, session_id: int) -> None:
        name = ""
        if self.data is not None:
            name = next((s.pattern_name for s in self.data.queue if s.session_id == session_id), "")
        self.live.started(session_id, name, getattr(self.state, "training_reason", ""))
        self.train_button.setEnabled(False)
        self.refresh()  # the queue: the started session is no longer waiting

    @Slot(object)
    def on_training_progress(self, p: Any) -> None:
        if self.session_id is None or getattr(p, "session_id", self.session_id) != self.session_id:
            self.on_training_started(int(getattr(p, "session_id", 0)))
        self.live.progress(p)

    @Slot(object)
    def on_training_finished(self, outcome: Any) -> None:
        self.live.finished(outcome)
        self.refresh()

    @Slot()
    def on_analysis_started(self) -> None:
        self.analysis_button.setEnabled(False)
        self.analysis_status.setText("Analysis starting…")

    @Slot(str, float)
    def on_analysis_progress(self, stage: str, fraction: float) -> None:
        self.analysis_status.setText(f"Analysis: {stage} {100 * fraction:.0f}%")

    @Slot(object)
    def on_analysis_finished(self, result: Any) -> None:
        self.analysis_button.setEnabled(True)
        n = len(getattr(result, "patterns", []) or [])
        self.analysis_status.setText(f"Analysis done: {count(n, 'pattern')}")
        self.refresh()

    @Slot(str)
    def on_analysis_cancelled(self) -> None:
        self.analysis_button.setEnabled(True)
        self.analysis_status.setText("Analysis cancelled.")

    def on_analysis_failed(self, message: str) -> None:
        self.analysis_button.setEnabled(True)
        self.analysis_status.setText(f"Analysis failed: {message}")
