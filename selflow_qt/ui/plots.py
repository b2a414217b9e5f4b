"""Reusable pyqtgraph pieces: a throttled live curve, labelled bars and Beta-interval error bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor

from selflow_qt.core.wording import shorten

# Colour-blind-friendly categorical palette (Okabe-Ito, then Tableau), noise in grey.
PALETTE = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#76B7B2", "#EDC948", "#9C755F",
]  # fmt: skip
NOISE_COLOR = "#B0B0B0"
FOREGROUND = "#303030"


def color_for(label: int) -> QColor:
    """A stable colour for a cluster label (-1, noise, is grey)."""
    if label < 0:
        return QColor(NOISE_COLOR)
    return QColor(PALETTE[label % len(PALETTE)])


def make_plot(
    title: str = "", left: str = "", bottom: str = "", height: int = 160, date_axis: bool = False
) -> pg.PlotWidget:
    """A light-themed PlotWidget with readable labels and a faint grid."""
    axes = {"bottom": pg.DateAxisItem(orientation="bottom")} if date_axis else None
    w = pg.PlotWidget(background="w", axisItems=axes)
    w.setMinimumHeight(height)
    item = w.getPlotItem()
    if title:
        item.setTitle(title, color=FOREGROUND, size="10pt")
    for side, text in (("left", left), ("bottom", bottom)):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(FOREGROUND))
        axis.setTextPen(pg.mkPen(FOREGROUND))
        if text:
            item.setLabel(side, text, color=FOREGROUND)
    item.showGrid(x=True, y=True, alpha=0.15)
    w.setMenuEnabled(False)
    return w


class LiveCurve:
    """A curve fed point by point: a preallocated buffer and at most one ``setData`` per tick.

    Appends only mark the curve dirty; a GUI timer (default 15 Hz) redraws, so a burst of
    progress values costs one redraw. Long curves are downsampled (peak) and clipped to view.
    """

    def __init__(
        self,
        plot: pg.PlotWidget,
        color: str = PALETTE[0],
        name: str | None = None,
        capacity: int = 1024,
        hz: float = 15.0,
        symbol: str | None = None,
    ) -> None:
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0
        self._dirty = False
        self.item = plot.plot(
            pen=pg.mkPen(color, width=2), name=name, symbol=symbol, symbolSize=5,
            symbolBrush=color, symbolPen=None,
        )  # fmt: skip
        self.item.setDownsampling(auto=True, method="peak")
        self.item.setClipToView(True)
        self.timer = QTimer(plot)
        self.timer.setInterval(max(1, int(1000 / hz)))
        self.timer.timeout.connect(self.flush)
        self.timer.start()

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, y: float) -> None:
        if self._n == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1
        self._dirty = True

    def set(self, x: Sequence[float], y: Sequence[float]) -> None:
        """Replace all points at once (e.g. a session's history)."""
        self._n = 0
        for a, b in zip(x, y, strict=True):
            self.append(a, b)
        self._dirty = True

    def clear(self) -> None:
        self._n = 0
        self._dirty = True
        self.flush()

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """The points appended so far (copies)."""
        return self._x[: self._n].copy(), self._y[: self._n].copy()

    def flush(self) -> None:
        """Push the buffer to the plot item if anything changed since the last tick."""
        if not self._dirty:
            return
        self._dirty = False
        self.item.setData(self._x[: self._n], self._y[: self._n])


class IntervalBars:
    """Points with asymmetric error bars, e.g. success rates with their 95 % Beta intervals
    (``core.ranking.beta_interval``, the one place they are computed)."""

    def __init__(self, plot: pg.PlotWidget, color: str = PALETTE[0]) -> None:
        self.plot = plot
        self.errors = pg.ErrorBarItem(
            x=np.empty(0), y=np.empty(0), beam=0.25, pen=pg.mkPen(color, width=2)
        )
        self.points = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(color), pen=None)
        plot.addItem(self.errors)
        plot.addItem(self.points)
        self.labels: list[str] = []

    def set(
        self,
        labels: Sequence[str],
        values: Sequence[float],
        lows: Sequence[float],
        highs: Sequence[float],
    ) -> None:
        self.labels = list(labels)
        y = np.asarray(values, dtype=float)
        x = np.arange(len(y), dtype=float)
        lo = np.clip(y - np.asarray(lows, dtype=float), 0, None)
        hi = np.clip(np.asarray(highs, dtype=float) - y, 0, None)
        self.errors.setData(x=x, y=y, top=hi, bottom=lo)
        self.points.setData(x=x, y=y)
        axis = self.plot.getPlotItem().getAxis("bottom")
        axis.setTicks([[(float(i), shorten(t, 24)) for i, t in enumerate(self.labels)]])
        if len(x):
            self.plot.setXRange(-0.6, len(x) - 0.4, padding=0)
