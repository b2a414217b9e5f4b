"""The Training Center's "Active training" panel: progress, ETA, tokens/s and a live loss curve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from selflow_qt.core.format import human_duration
from selflow_qt.ui.plots import FOREGROUND, PALETTE, LiveCurve, make_plot

EMA_ALPHA = 0.3  # smoothing of the drawn loss trend (the raw per-step loss is drawn too)


def outcome_text(outcome: Any, fallback_sid: int | None) -> str:
    """``Session #3: completed, final loss 1.234, held-out hit@1 0.41, MRR 0.55``."""
    if outcome is None:
        return "Nothing to train"
    extra = ""
    if getattr(outcome, "final_loss", None) is not None:
        extra = f", final loss {outcome.final_loss:.3f}"
    if getattr(outcome, "error", None):
        extra += f" — {outcome.error}"
    own = (getattr(outcome, "metrics", None) or {}).get(getattr(outcome, "model_id", ""), {})
    if own:
        extra += f", held-out hit@1 {own.get('hit1', 0):.2f}, MRR {own.get('mrr', 0):.2f}"
    sid = getattr(outcome, "session_id", fallback_sid)
    return f"Session #{sid}: {getattr(outcome, 'status', 'finished')}{extra}"


class LiveTrainingPanel(QGroupBox):
    """Fed by ``trainingStarted`` / ``trainingProgress`` / ``trainingFinished``; Cancel calls back."""

    def __init__(self, on_cancel: Callable[[], None]) -> None:
        super().__init__("Active training")
        self.session_id: int | None = None
        self.shown: int | None = None  # the finished session whose curve is drawn
        self.last_progress: Any = None
        self._ema: float | None = None
        self._on_cancel = on_cancel
        lay = QVBoxLayout(self)
        self.title = QLabel("No training running")
        self.title.setStyleSheet("font-weight: bold;")
        self.title.setWordWrap(True)
        self.reason = QLabel("")  # why the run started: the user, or the policy and idle time
        self.reason.setObjectName("training-reason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #505050;")
        self.reason.hide()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        stats = QHBoxLayout()
        self.eta_label = QLabel("ETA —")
        self.tps_label = QLabel("— tokens/s")
        self.loss_label = QLabel("loss —")
        for w in (self.eta_label, self.tps_label, self.loss_label):
            stats.addWidget(w)
        stats.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel)
        stats.addWidget(self.cancel_button)
        self.plot = make_plot("Loss", left="loss", bottom="step", height=300)
        self.plot.addLegend(offset=(-10, 10), labelTextColor=FOREGROUND)
        self.loss_curve = LiveCurve(self.plot, PALETTE[0], name="training loss (per step)")
        self.loss_curve.item.setPen(pg.mkPen(PALETTE[0], width=1.2))
        self.smooth_curve = LiveCurve(self.plot, PALETTE[2], name=f"smoothed (EMA {EMA_ALPHA})")
        self.smooth_curve.item.setPen(pg.mkPen(PALETTE[2], width=3))
        self.val_curve = LiveCurve(self.plot, PALETTE[1], name="validation loss", symbol="o")
        lay.addWidget(self.title)
        lay.addWidget(self.reason)
        lay.addWidget(self.bar)
        lay.addLayout(stats)
        lay.addWidget(self.plot, 1)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.title.setText(self.title.text() + " — cancelling…")
        self._on_cancel()

    def started(self, session_id: int, name: str = "", reason: str = "") -> None:
        self.session_id = int(session_id)
        self.title.setText(f"Training session #{session_id}" + (f" — {name}" if name else ""))
        self.reason.setText(reason[:1].upper() + reason[1:])
        self.reason.setVisible(bool(reason))
        self.eta_label.setText("ETA —")
        self.tps_label.setText("— tokens/s")
        self.loss_label.setText("loss —")
        for curve in (self.loss_curve, self.smooth_curve, self.val_curve):
            curve.clear()
        self._ema = None
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)

    def progress(self, p: Any) -> None:
        self.last_progress = p
        total = max(1, int(p.total_steps or 1))
        self.bar.setRange(0, total)
        self.bar.setValue(min(int(p.step), total))
        self.bar.setFormat(f"step {int(p.step)} / {total}  (epoch {getattr(p, 'epoch', 0):.2f})")
        self.eta_label.setText(f"ETA {human_duration(p.eta_s)}")
        self.tps_label.setText(f"{p.tokens_per_s:,.0f} tokens/s")
        if p.loss is not None:
            loss = float(p.loss)
            self.loss_curve.append(float(p.step), loss)
            self._ema = loss if self._ema is None else self._ema + EMA_ALPHA * (loss - self._ema)
            self.smooth_curve.append(float(p.step), self._ema)
            self.loss_label.setText(f"loss {loss:.3f}")
        if getattr(p, "val_loss", None) is not None:
            self.val_curve.append(float(p.step), float(p.val_loss))

    def show_last(self, session: Any) -> None:
        """While nothing trains: the last finished training's curve (once per session), read
        from its record (``store.queries.training.QueuedSession``)."""
        if self.session_id is not None or self.shown == session.session_id:
            return
        self.shown = session.session_id
        took = f" in {human_duration(session.wall_s)}" if session.wall_s is not None else ""
        self.title.setText(
            f"Last training: session #{session.session_id} — {session.pattern_name}, "
            f"{session.status}{took}"
        )
        self.reason.hide()
        for curve in (self.loss_curve, self.smooth_curve, self.val_curve):
            curve.clear()
        self._ema = None
        for step, loss in enumerate(session.losses or [], 1):
            self.loss_curve.append(float(step), loss)
            self._ema = loss if self._ema is None else self._ema + EMA_ALPHA * (loss - self._ema)
            self.smooth_curve.append(float(step), self._ema)
        for step, val in session.val_points or []:
            self.val_curve.append(float(step), val)
        steps = len(session.losses or [])
        self.bar.setRange(0, max(1, steps))
        self.bar.setValue(steps)
        self.bar.setFormat(f"{steps} steps" if steps != 1 else "1 step")
        if session.losses:
            self.loss_label.setText(f"loss {session.losses[-1]:.3f}")
        for curve in (self.loss_curve, self.smooth_curve, self.val_curve):
            curve.flush()

    def finished(self, outcome: Any) -> None:
        for curve in (self.loss_curve, self.smooth_curve, self.val_curve):
            curve.flush()
        self.title.setText(outcome_text(outcome, self.session_id))
        self.eta_label.setText("ETA —")  # a finished or cancelled run has no time left
        self.tps_label.setText("— tokens/s")
        self.cancel_button.setEnabled(False)
        self.shown = self.session_id  # its curve is on screen already
        self.session_id = None
