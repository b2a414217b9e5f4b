"""The Cluster Explorer's scatter: one item per cluster, rectangle/lasso drags, overlays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QGraphicsRectItem

from selflow_qt.ui.plots import FOREGROUND, color_for

LASSO_STEP_PX = 4
RectCallback = Callable[[float, float, float, float, bool], None]
LassoCallback = Callable[[np.ndarray, bool], None]


class SelectionViewBox(pg.ViewBox):
    """Left drag draws a rectangle or a lasso (Shift adds); right drag and the wheel zoom.

    In "pan" mode a left drag pans as usual. A left click on empty space clears.
    """

    def __init__(self) -> None:
        super().__init__()
        self.mode = "rect"  # rect / lasso / pan
        self.on_rect: RectCallback | None = None
        self.on_lasso: LassoCallback | None = None
        self.on_clear: Callable[[], None] | None = None
        self._rect = QGraphicsRectItem()
        self._rect.setPen(pg.mkPen("#202020", width=1, style=Qt.PenStyle.DashLine))
        self._rect.setBrush(pg.mkBrush(0, 114, 178, 40))
        self._rect.setZValue(1e9)
        self._rect.hide()
        self.addItem(self._rect, ignoreBounds=True)
        self._lasso = pg.PlotCurveItem(
            pen=pg.mkPen("#202020", width=1.5, style=Qt.PenStyle.DashLine)
        )
        self._lasso.setZValue(1e9)
        self.addItem(self._lasso, ignoreBounds=True)
        self._lasso_pts: list[tuple[float, float]] = []

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt naming)
        if ev.button() != Qt.MouseButton.LeftButton or self.mode == "pan":
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        start = self.mapSceneToView(ev.buttonDownScenePos())
        here = self.mapSceneToView(ev.scenePos())
        add = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if self.mode == "rect":
            self._drag_rect(ev, start, here, add)
        else:
            self._drag_lasso(ev, start, here, add)

    def _drag_rect(self, ev, start: QPointF, here: QPointF, add: bool) -> None:
        if ev.isFinish():
            self._rect.hide()
            if self.on_rect is not None:
                self.on_rect(start.x(), start.y(), here.x(), here.y(), add)
            return
        self._rect.setRect(QRectF(start, here).normalized())
        self._rect.show()

    def _drag_lasso(self, ev, start: QPointF, here: QPointF, add: bool) -> None:
        if ev.isStart() or not self._lasso_pts:
            self._lasso_pts = [(start.x(), start.y())]
            self._last_px = ev.buttonDownScenePos()
        # A vertex every LASSO_STEP_PX screen pixels: a long drag stays a polygon of a few
        # hundred vertices at most, so the mask stays quick.
        px = ev.scenePos()
        if ev.isFinish() or (px - self._last_px).manhattanLength() >= LASSO_STEP_PX:
            self._lasso_pts.append((here.x(), here.y()))
            self._last_px = px
        pts = np.array(self._lasso_pts + self._lasso_pts[:1])
        if ev.isFinish():
            self._lasso.setData([], [])
            polygon, self._lasso_pts = np.array(self._lasso_pts), []
            if self.on_lasso is not None:
                self.on_lasso(polygon, add)
            return
        self._lasso.setData(pts[:, 0], pts[:, 1])

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton and self.on_clear is not None:
            ev.accept()
            self.on_clear()
            return
        super().mouseClickEvent(ev)


class ClusterScatter(pg.PlotWidget):
    """Points coloured by cluster (one ScatterPlotItem per cluster: shared pen and brush)."""

    def __init__(self, parent=None) -> None:
        self.vb = SelectionViewBox()
        super().__init__(parent, background="w", viewBox=self.vb)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(FOREGROUND))
            axis.setTextPen(pg.mkPen(FOREGROUND))
            axis.enableAutoSIPrefix(False)  # a projection has no unit: "(×0.001)" beside 800
        item.setLabel("bottom", "projection x", color=FOREGROUND)
        item.setLabel("left", "projection y", color=FOREGROUND)
        item.showGrid(x=True, y=True, alpha=0.1)
        self.cluster_items: dict[int, pg.ScatterPlotItem] = {}
        self.xy = np.empty((0, 2), dtype=np.float32)
        self.labels = np.empty(0, dtype=np.int32)
        # Selected points are redrawn on top in their cluster's colour with a dark edge (one item
        # per cluster, shared pen and brush) while the rest fade.
        self.selection_items: dict[int, pg.ScatterPlotItem] = {}
        self.highlight_item = pg.ScatterPlotItem(
            size=13, pen=pg.mkPen("#D00000", width=2.5), brush=None, pxMode=True
        )
        self.highlight_item.setZValue(11)
        self.addItem(self.highlight_item)
        self.setAcceptDrops(False)  # drops go to the dock, which imports them
        self.viewport().setAcceptDrops(False)

    def set_points(self, xy: np.ndarray, labels: np.ndarray) -> None:
        """Replace all points; items are created per label with one pen and one brush each."""
        for it in self.cluster_items.values():
            self.removeItem(it)
        self.cluster_items = {}
        self.xy = np.asarray(xy, dtype=np.float32).reshape(-1, 2)
        labels = np.asarray(labels)
        for label in np.unique(labels):
            mask = labels == label
            color = color_for(int(label))
            color.setAlpha(110 if label < 0 else 190)
            item = pg.ScatterPlotItem(
                pos=self.xy[mask],
                size=4 if label < 0 else 6,
                pen=None,
                brush=pg.mkBrush(color),
                pxMode=True,
            )
            item.setZValue(0 if label < 0 else 1)
            self.addItem(item)
            self.cluster_items[int(label)] = item
        self.labels = labels
        self.show_selection(np.empty(0, dtype=np.int64))
        self.highlight_item.setData(pos=np.empty((0, 2)))
        self.getPlotItem().enableAutoRange()

    def show_selection(self, indices: np.ndarray) -> None:
        for it in self.selection_items.values():
            self.removeItem(it)
        self.selection_items = {}
        faded = len(indices) > 0
        for it in self.cluster_items.values():
            it.setOpacity(0.25 if faded else 1.0)
        if not faded:
            return
        sel_labels = self.labels[indices]
        edge = pg.mkPen(30, 30, 30, 230, width=0.8)
        for label in np.unique(sel_labels):
            item = pg.ScatterPlotItem(
                pos=self.xy[indices[sel_labels == label]],
                size=7,
                pen=edge,
                brush=pg.mkBrush(color_for(int(label))),
                pxMode=True,
            )
            item.setZValue(10)
            self.addItem(item)
            self.selection_items[int(label)] = item

    def selected_count(self) -> int:
        """Points drawn as selected (for tests and the status line)."""
        return sum(len(it.data) for it in self.selection_items.values())

    def show_highlight(self, indices: np.ndarray) -> None:
        self.highlight_item.setData(pos=self.xy[indices] if len(indices) else np.empty((0, 2)))
