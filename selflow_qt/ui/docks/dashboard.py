"""Live Dashboard: today's events per hour by source, file operations, focus time, top workflows,
and, above them, a line for any collector that stopped seeing events."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.core.format import clock_duration, count
from selflow_qt.store.queries.tray import (
    FOCUS_TIME_DEFINITION,
    WORKFLOW_EFFICIENCY_DEFINITION,
)
from selflow_qt.ui.state import AppState
from selflow_qt.workers import jobs

SOURCE_COLOURS = {
    "fs": (66, 133, 244),
    "app": (52, 168, 83),
    "shell": (251, 188, 5),
    "aw": (171, 71, 188),
    "system": (154, 160, 166),
}
REFRESH_MS = 30_000


def whole_ticks(top: float, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 to ``top``: steps of 1, 2 or 5 times a power of ten."""
    step = 1
    while top / step > most:
        step = next(step * m for m in (2, 5, 10) if top / (step * m) <= most or m == 10)
    return list(range(0, int(top) + 1, step))


class DashboardDock(QWidget):
    """Reads its numbers on a worker every 30 s (and on dataChanged) and draws them."""

    refreshed = Signal(object)  # jobs.DashboardData, after drawing

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.data: jobs.DashboardData | None = None
        self._pending = None
        self._again = False
        pg.setConfigOptions(antialias=True)

        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("events-per-hour")
        self.plot.setTitle("Today's events per hour, by source", color="#333")
        self.plot.setLabel("bottom", "hour of the day (local)")
        self.plot.setLabel("left", "events")
        self.plot.setXRange(-0.6, 23.6, padding=0)
        self.plot.getAxis("bottom").setTicks([[(h, f"{h:02d}") for h in range(0, 24, 2)]])
        self.plot.showGrid(y=True, alpha=0.2)
        self.plot.setMouseEnabled(x=False, y=False)
        self.legend = self.plot.addLegend(offset=(10, 5))
        self.bars: dict[str, pg.BarGraphItem] = {}

        self.total_label = QLabel("–")
        self.ops_label = QLabel("–")
        self.focus_label = QLabel("–")
        self.focus_label.setToolTip(FOCUS_TIME_DEFINITION)
        self.efficiency_label = QLabel("–")
        self.efficiency_label.setToolTip(WORKFLOW_EFFICIENCY_DEFINITION)
        for lbl in (self.total_label, self.ops_label, self.focus_label, self.efficiency_label):
            lbl.setObjectName("metric")
            lbl.setWordWrap(True)
        stats = QGroupBox("Today")
        form = QFormLayout(stats)
        form.addRow("Events:", self.total_label)
        form.addRow("File operations:", self.ops_label)
        form.addRow("Focus time:", self.focus_label)
        form.addRow("Workflow efficiency:", self.efficiency_label)

        self.workflows = QListWidget()
        self.workflows.setObjectName("top-workflows")
        self.workflows.setWordWrap(True)  # a long pattern name wraps instead of being cut
        wf_box = QGroupBox("Top workflows today")
        QVBoxLayout(wf_box).addWidget(self.workflows)

        # Which collector stopped seeing events and why (hidden while every collector works).
        self.collection_problem = QLabel()
        self.collection_problem.setObjectName("collection-problem")
        self.collection_problem.setWordWrap(True)
        self.collection_problem.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.collection_problem.hide()
        if hasattr(state, "collectionChanged"):
            state.collectionChanged.connect(self.show_collection)
            if state.collection is not None:
                self.show_collection(state.collection)

        row = QHBoxLayout()
        row.addWidget(stats, 1)
        row.addWidget(wf_box, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.collection_problem)
        layout.addWidget(self.plot, 3)
        layout.addLayout(row, 2)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        QTimer.singleShot(0, self.refresh)

    def refresh(self) -> None:
        """Read today's numbers on a worker; the result is drawn on arrival."""
        if self._pending is not None:  # one read at a time; a request meanwhile reruns once
            self._again = True
            return
        self._again = False
        self._pending = self.state.run(
            jobs.dashboard_job,
            self.state.job_context(),
            on_result=self.show_data,
            on_finished=self._read_done,
        )

    def _read_done(self) -> None:
        self._pending = None
        if self._again:
            self.refresh()

    def show_collection(self, cs: jobs.CollectionState) -> None:
        """One line per collector that stopped seeing events; nothing while all work."""
        problems = cs.problems if cs is not None else []
        self.collection_problem.setText("\n".join(problems))
        self.collection_problem.setVisible(bool(problems))

    def show_data(self, data: jobs.DashboardData) -> None:
        self.data = data
        self._draw_bars(data.by_hour)
        self.total_label.setText(f"{data.events_today:,}")
        ops = sum(data.file_ops.values())
        detail = ", ".join(f"{n:,} {a}" for a, n in list(data.file_ops.items())[:4])
        self.ops_label.setText(f"{ops:,}" + (f"  ({detail})" if detail else ""))
        self.ops_label.setToolTip(", ".join(f"{n:,} {a}" for a, n in data.file_ops.items()))
        self.focus_label.setText(clock_duration(data.focus_seconds))
        wf, eff = data.workflows, data.efficiency
        if eff.analysed:
            self.efficiency_label.setText(
                f"{eff.share:.0%}  ({eff.continued:,} of {count(eff.analysed, 'action')} stayed in flow)"
            )
        else:
            self.efficiency_label.setText("n/a (no analysed actions today yet)")
        self.workflows.clear()
        if wf["by_pattern"]:
            for name, n in list(wf["by_pattern"].items())[:8]:
                self.workflows.addItem(f"{name} — {count(n, 'action')}")
        elif wf["analysed"]:
            self.workflows.addItem(
                f"Today's {count(wf['analysed'], 'analysed action')} fit no known workflow (noise)."
            )
        elif data.top_apps:
            self.workflows.addItem("No analysed workflows today yet; most used apps:")
            for app, n in data.top_apps:
                self.workflows.addItem(f"   {app} — {count(n, 'event')}")
        else:
            self.workflows.addItem("No analysed workflows or app activity today yet.")
        self.refreshed.emit(data)

    def _draw_bars(self, by_hour: dict[str, list[int]]) -> None:
        hours = np.arange(24, dtype=float)
        base = np.zeros(24)
        seen = set()
        for source, counts in by_hour.items():
            y = np.asarray(counts, dtype=float)
            colour = SOURCE_COLOURS.get(source, (120, 120, 120))
            bar = self.bars.get(source)
            if bar is None:
                bar = pg.BarGraphItem(
                    x=hours,
                    height=y,
                    y0=base.copy(),
                    width=0.8,
                    brush=pg.mkBrush(*colour),
                    pen=None,
                )
                self.plot.addItem(bar)
                self.legend.addItem(bar, source)
                self.bars[source] = bar
            else:
                bar.setOpts(x=hours, height=y, y0=base.copy())
            base += y
            seen.add(source)
        for source, bar in self.bars.items():
            if source not in seen:
                bar.setOpts(height=np.zeros(24))
        top = max(1.0, float(base.max()) * 1.1)
        self.plot.setYRange(0, top, padding=0)
        # counts are whole numbers: no "0.5 events" ticks on a quiet day
        self.plot.getAxis("left").setTicks([[(v, f"{v:,}") for v in whole_ticks(top)]])
