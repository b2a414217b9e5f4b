"""Data Insights dock: learning progress over cycles, agents over time, trends and suggestions."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.analyze import insights
from selflow_qt.core.format import consensus_text, count
from selflow_qt.store.queries.training import read_with
from selflow_qt.ui.docks.base import NO_ANALYSIS, BackgroundLoader, fill_table, make_table
from selflow_qt.ui.plots import FOREGROUND, PALETTE, make_plot

ARROWS = {
    "rising": "▲ rising",
    "falling": "▼ falling",
    "steady": "– steady",
    "new": "● new this week",  # no week before recorded: nothing to compare with
}
TREND_COLORS = {"rising": "#1B7F3B", "falling": "#B22222"}


def change_text(t: insights.Trend) -> str:
    if t.last_week == 0:
        return "new" if t.this_week else "—"
    return f"{100 * t.change:+.0f}%"


class InsightsDock(QWidget):
    """What SelFlow has learned so far and what it suggests, all computed from the store."""

    def __init__(self, state: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.report: insights.InsightsReport | None = None
        self._loader = BackgroundLoader(
            self, self._apply, self._failed, getattr(state, "pool", None)
        )
        self._build()
        state.dataChanged.connect(self.refresh)
        state.analysisFinished.connect(lambda _r: self.refresh())
        self.refresh()

    def _build(self) -> None:
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setContentsMargins(8, 8, 8, 8)
        grid.setSpacing(10)

        progress = QGroupBox("Learning progress over analysis cycles")
        pl = QVBoxLayout(progress)
        self.progress_label = QLabel(NO_ANALYSIS)
        self.progress_label.setWordWrap(True)
        self.progress_plot = make_plot(left="patterns", bottom="analysis run (#)", height=200)
        self.progress_plot.addLegend(offset=(-10, -10), labelTextColor=FOREGROUND)
        self.patterns_curve = self.progress_plot.plot(
            pen=pg.mkPen(PALETTE[0], width=2), symbol="o", symbolSize=7,
            symbolBrush=PALETTE[0], symbolPen=None, name="patterns",
        )  # fmt: skip
        # The consensus score (0..1) on its own right-hand axis.
        self.score_view = pg.ViewBox()
        item = self.progress_plot.getPlotItem()
        item.showAxis("right")
        item.scene().addItem(self.score_view)
        item.getAxis("right").linkToView(self.score_view)
        item.getAxis("right").setLabel("consensus score", color=PALETTE[1])
        self.score_view.setXLink(item)
        self.score_view.setYRange(0, 1)
        self.score_curve = pg.PlotDataItem(
            pen=pg.mkPen(PALETTE[1], width=2, style=Qt.PenStyle.DashLine), symbol="s",
            symbolSize=6, symbolBrush=PALETTE[1], symbolPen=None, name="consensus score",
        )  # fmt: skip
        self.score_view.addItem(self.score_curve)
        item.legend.addItem(self.score_curve, "consensus score")
        item.vb.sigResized.connect(lambda: self.score_view.setGeometry(item.vb.sceneBoundingRect()))
        pl.addWidget(self.progress_label)
        pl.addWidget(self.progress_plot, 1)

        agents = QGroupBox("Agents' success over time (per day)")
        al = QVBoxLayout(agents)
        self.agents_label = QLabel("No scored predictions yet.")
        self.agents_label.setWordWrap(True)
        self.agents_plot = make_plot(left="success rate", bottom="day", height=200, date_axis=True)
        self.agents_plot.setYRange(0, 1, padding=0.02)
        self.agents_plot.addLegend(offset=(10, 10), labelTextColor=FOREGROUND)
        al.addWidget(self.agents_label)
        al.addWidget(self.agents_plot, 1)

        trends = QGroupBox("Trend detection: last 7 days vs the 7 before")
        tl = QVBoxLayout(trends)
        self.trends_table = make_table(
            ["", "Kind", "What", "Last week", "This week", "Change", "p"], stretch_last=False
        )
        header = self.trends_table.horizontalHeader()
        header.setSectionResizeMode(2, header.ResizeMode.Stretch)
        test = QLabel("Test: " + insights.TREND_TEST + ".")
        test.setWordWrap(True)
        test.setStyleSheet("color: #505050;")
        tl.addWidget(self.trends_table, 1)
        tl.addWidget(test)

        tips = QGroupBox("Optimization suggestions")
        sl = QVBoxLayout(tips)
        self.tips_list = QListWidget()
        self.tips_list.setWordWrap(True)
        self.tips_list.setAlternatingRowColors(True)
        sl.addWidget(self.tips_list)

        grid.addWidget(progress, 0, 0)
        grid.addWidget(agents, 0, 1)
        grid.addWidget(trends, 1, 0, 1, 2)
        grid.addWidget(tips, 2, 0, 1, 2)
        trends.setMinimumHeight(300)
        tips.setMinimumHeight(200)
        self.top_boxes = (progress, agents)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(scroll)
        self.setMinimumSize(640, 480)

    @Slot()
    def refresh(self) -> None:
        self._loader.load(read_with, self.state.data_dir, insights.build_insights)

    def _failed(self, message: str) -> None:
        self.progress_label.setText(f"Could not compute insights: {message}")

    def _apply(self, report: insights.InsightsReport) -> None:
        self.report = report
        self._show_progress(report.progress)
        self._show_agents(report.agents)
        # Empty charts give their room to the tables.
        has_plots = bool(report.progress or report.agents)
        for box in self.top_boxes:
            box.setMaximumHeight(16_777_215 if has_plots else 90)
        self._show_trends(report.trends)
        self.tips_list.clear()
        for tip in report.tips:
            self.tips_list.addItem("• " + tip.text)
        if not report.tips:
            self.tips_list.addItem("No suggestions yet: they need a few days of activity.")

    def _show_progress(self, runs: list[insights.RunPoint]) -> None:
        if not runs:
            self.progress_label.setText(NO_ANALYSIS + " (Training Center → Run analysis now).")
            self.patterns_curve.setData([], [])
            self.score_curve.setData([], [])
            self.progress_plot.hide()
            return
        self.progress_plot.show()
        x = np.arange(1, len(runs) + 1, dtype=float)  # run number; times are in the label
        self.patterns_curve.setData(x, [r.n_patterns for r in runs])
        # runs that one method grouped (few workflow units) have no consensus score: no point
        scored = [
            (i, r.consensus_score) for i, r in enumerate(runs, 1) if r.consensus_score is not None
        ]
        self.score_curve.setData([float(i) for i, _ in scored], [c for _, c in scored])
        self.progress_plot.setXRange(0.5, len(runs) + 0.5, padding=0)
        self.progress_plot.setYRange(0, max(r.n_patterns for r in runs) + 1, padding=0.05)
        axis = self.progress_plot.getPlotItem().getAxis("bottom")
        step = max(1, len(runs) // 10)
        axis.setTicks([[(float(i), f"#{i}") for i in range(1, len(runs) + 1, step)]])
        last = runs[-1]
        first = time.strftime("%Y-%m-%d %H:%M", time.localtime(runs[0].started_at))
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last.started_at))
        self.progress_label.setText(
            f"{count(len(runs), 'analysis run')} since {first} · latest (#{len(runs)}, {when}): "
            f"{count(last.n_patterns, 'pattern')} over {count(last.n_events, 'event')}, "
            + consensus_text(last.consensus_score)
        )

    def _show_agents(self, agents: dict[str, list[insights.AgentDay]]) -> None:
        plot = self.agents_plot.getPlotItem()
        for it in list(plot.listDataItems()):
            plot.removeItem(it)
        if plot.legend is not None:
            plot.legend.clear()
        top = sorted(agents.items(), key=lambda kv: -sum(d.attempts for d in kv[1]))[:6]
        for i, (model_id, days) in enumerate(top):
            color = PALETTE[i % len(PALETTE)]
            plot.plot(
                [d.day_start + 43_200 for d in days], [d.success_rate for d in days],
                pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6, symbolBrush=color,
                symbolPen=None, name=model_id,
            )  # fmt: skip
        self.agents_plot.setVisible(bool(agents))
        days_x = [d.day_start for days in agents.values() for d in days]
        if days_x:  # whole days, with a day of room either side
            self.agents_plot.setXRange(min(days_x) - 86_400, max(days_x) + 2 * 86_400, padding=0)
        n = sum(d.attempts for days in agents.values() for d in days)
        self.agents_label.setText(
            f"{count(len(agents), 'predictor')}, {count(n, 'scored prediction')} in 28 days"
            if agents
            else "No scored predictions yet: suggestions are scored once their horizon passes."
        )

    def _show_trends(self, trends: list[insights.Trend]) -> None:
        shown = trends[:40]
        rows = [
            [ARROWS[t.direction], t.kind, t.key, t.last_week, t.this_week, change_text(t),
             "—" if t.direction == "new"
             else (f"{t.p_value:.3f}" if t.p_value >= 0.001 else "<0.001")]
            for t in shown
        ]  # fmt: skip
        fill_table(self.trends_table, rows, align_right={3, 4, 5, 6})
        for r, t in enumerate(shown):
            color = TREND_COLORS.get(t.direction)
            if color:
                self.trends_table.item(r, 0).setForeground(QColor(color))
