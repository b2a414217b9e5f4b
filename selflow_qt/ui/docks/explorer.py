"""Cluster Explorer dock: the 2-D projection by cluster, drag selection linked to an event table.

Dropping files or folders here imports them (JSONL, ActivityWatch export, shell history) or adds
them as watched roots, through ``state.import_paths`` (see ``import_strip``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.core.format import count
from selflow_qt.core.selection import SelectionModel, lasso_mask, rect_mask
from selflow_qt.core.wording import terms_words, unnamed_group
from selflow_qt.store.queries import explorer as reads
from selflow_qt.store.queries.training import read_with
from selflow_qt.ui.docks.base import NO_ANALYSIS, BackgroundLoader, empty_label
from selflow_qt.ui.docks.event_table import EventTableModel
from selflow_qt.ui.docks.explorer_scatter import ClusterScatter
from selflow_qt.ui.docks.import_strip import ImportStrip, local_paths
from selflow_qt.ui.plots import color_for

ALGORITHMS = ("consensus", "hdbscan", "spectral", "gmm", "density", "hierarchical")


def _swatch(label: int) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(color_for(label)))
    return QIcon(pm)


class ClusterExplorerDock(QWidget):
    """Scatter + event table + cluster list; the selection is one index array in ``selection``."""

    def __init__(self, state: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.data: reads.ExplorerData | None = None
        self.labels = np.empty(0, dtype=np.int32)
        self.selection = SelectionModel()  # points chosen by a drag: filters the table
        self.highlight = SelectionModel()  # points of the rows chosen in the table
        self.selection.subscribe(self._selection_changed)
        self.highlight.subscribe(lambda idx, _src: self.scatter.show_highlight(idx))
        pool = getattr(state, "pool", None)
        self._loader = BackgroundLoader(self, self._apply, self._load_failed, pool)
        self._rows_loader = BackgroundLoader(self, self._rows_loaded, self._load_failed, pool)
        self._syncing = False
        self.setAcceptDrops(True)
        self._build()
        state.dataChanged.connect(self.refresh)
        state.analysisFinished.connect(self.refresh)
        self.refresh()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Colour by"))
        self.algorithm = QComboBox()
        self.algorithm.addItems(ALGORITHMS)
        self.algorithm.currentTextChanged.connect(self._recolour)
        bar.addWidget(self.algorithm)
        bar.addSpacing(12)
        self.mode_group = QButtonGroup(self)
        for mode, text, tip in (
            ("rect", "Rectangle", "Drag to select a rectangle (Shift adds)"),
            ("lasso", "Lasso", "Drag to draw a lasso (Shift adds)"),
            ("pan", "Pan", "Drag to pan; right-drag or wheel zooms"),
        ):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(True)
            b.setProperty("mode", mode)
            self.mode_group.addButton(b)
            bar.addWidget(b)
        self.mode_group.buttons()[0].setChecked(True)
        self.mode_group.buttonClicked.connect(lambda b: self.set_mode(b.property("mode")))
        clear = QPushButton("Clear selection")
        clear.clicked.connect(lambda: self.selection.clear("button"))
        bar.addWidget(clear)
        bar.addStretch(1)
        self.status = QLabel("")
        bar.addWidget(self.status)

        self.scatter = ClusterScatter()
        self.scatter.vb.on_rect = self.select_rect
        self.scatter.vb.on_lasso = self.select_lasso
        self.scatter.vb.on_clear = lambda: self.selection.clear("plot")
        self.empty = empty_label(NO_ANALYSIS)
        self.empty.setMinimumHeight(200)

        self.clusters = QListWidget()
        self.clusters.setWordWrap(True)
        self.clusters.itemClicked.connect(self._cluster_clicked)
        self.ideas = QListWidget()
        self.ideas.setWordWrap(True)
        self.queue_button = QPushButton("Queue training for the chosen pattern")
        self.queue_button.clicked.connect(self._queue_idea)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("<b>Clusters</b> (click to select)"))
        sl.addWidget(self.clusters, 3)
        sl.addWidget(QLabel("<b>Specialization suggestions</b>"))
        sl.addWidget(self.ideas, 2)
        sl.addWidget(self.queue_button)

        self.model = EventTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        header = self.table.horizontalHeader()
        for col in range(4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.selectionModel().selectionChanged.connect(self._rows_selected)
        self.table_label = QLabel("")

        plot_area = QWidget()
        pl = QVBoxLayout(plot_area)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.scatter, 1)
        pl.addWidget(self.empty, 1)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(plot_area)
        top.addWidget(side)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.table_label)
        bl.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.import_strip = ImportStrip(self.state)
        self.import_bar, self.import_label = self.import_strip.bar, self.import_strip.label
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(bar)
        lay.addWidget(split, 1)
        lay.addWidget(self.import_strip)
        self.setMinimumSize(640, 480)
        self._show_empty(True)

    def _show_empty(self, empty: bool, text: str = NO_ANALYSIS) -> None:
        self.empty.setText(text)
        self.empty.setVisible(empty)
        self.scatter.setVisible(not empty)

    # -- data --------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        self._loader.load(read_with, self.state.data_dir, reads.explorer_data)

    def _load_failed(self, message: str) -> None:
        self.status.setText(f"Could not read the store: {message}")

    def _apply(self, data: reads.ExplorerData) -> None:
        self.data = data
        self._show_ideas(data.suggestions)
        proj = data.projection
        if proj is None:
            self._show_empty(True, NO_ANALYSIS + " (Training Center → Run analysis now).")
            self.selection.reset(0)
            self.highlight.reset(0)
            self.model.set_rows([], np.empty(0), [])
            self.clusters.clear()
            self.status.setText("")
            return
        self._show_empty(False)
        present = ["consensus"] + [a for a in ALGORITHMS[1:] if a in proj.per_algorithm]
        current = self.algorithm.currentText()
        self.algorithm.blockSignals(True)
        self.algorithm.clear()
        self.algorithm.addItems(present)
        self.algorithm.setCurrentText(current if current in present else "consensus")
        self.algorithm.blockSignals(False)
        self.highlight.reset(len(proj.event_ids))
        self.selection.reset(len(proj.event_ids))
        self._recolour(self.algorithm.currentText())
        self._load_rows(self.selection.indices)  # all events (capped) until points are selected

    def labels_for(self, algorithm: str) -> np.ndarray:
        proj = self.data.projection
        if algorithm == "consensus" or algorithm not in proj.per_algorithm:
            return np.asarray(proj.consensus)
        return np.asarray(proj.per_algorithm[algorithm])

    def cluster_name(self, label: int, algorithm: str | None = None) -> str:
        algorithm = algorithm or self.algorithm.currentText()
        if label < 0:
            return "noise"
        if algorithm == "consensus":
            return self.data.projection.cluster_names.get(label, unnamed_group(label))
        return unnamed_group(label, algorithm)

    @Slot(str)
    def _recolour(self, algorithm: str) -> None:
        if self.data is None or self.data.projection is None:
            return
        proj = self.data.projection
        self.labels = self.labels_for(algorithm)
        self.scatter.set_points(proj.xy, self.labels)
        self.scatter.show_selection(self.selection.indices)
        self.scatter.show_highlight(self.highlight.indices)
        self._show_clusters(algorithm)
        self._update_status()

    def _show_clusters(self, algorithm: str) -> None:
        self.clusters.clear()
        proj = self.data.projection
        labels, counts = np.unique(self.labels, return_counts=True)
        order = np.argsort(-counts)
        for k in order:
            label = int(labels[k])
            text = f"{self.cluster_name(label, algorithm)} — {count(int(counts[k]), 'event')}"
            terms = proj.cluster_terms.get(label, []) if algorithm == "consensus" else []
            if terms:
                text += "\n   " + terms_words(terms)
            item = QListWidgetItem(_swatch(label), text)
            item.setData(Qt.ItemDataRole.UserRole, label)
            self.clusters.addItem(item)

    def _show_ideas(self, ideas: list[reads.SpecializationIdea]) -> None:
        self.ideas.clear()
        for idea in ideas:
            item = QListWidgetItem(idea.text)
            item.setData(Qt.ItemDataRole.UserRole, idea.pattern_id)
            self.ideas.addItem(item)
        if not ideas:
            self.ideas.addItem("No suggestions yet: they come with an analysis.")
        self.queue_button.setEnabled(any(i.kind == "candidate" for i in ideas))

    def _update_status(self) -> None:
        if self.data is None or self.data.projection is None:
            return
        n = len(self.data.projection.event_ids)
        sampled = f" (sample of {self.data.sampled_from:,})" if self.data.sampled_from else ""
        self.status.setText(f"{count(n, 'point')}{sampled} · {len(self.selection):,} selected")

    # -- selection ---------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.scatter.vb.mode = mode
        for b in self.mode_group.buttons():
            b.setChecked(b.property("mode") == mode)

    def select_rect(self, x0: float, y0: float, x1: float, y1: float, add: bool = False) -> None:
        self.selection.set_mask(rect_mask(self.scatter.xy, x0, y0, x1, y1), "plot", add=add)

    def select_lasso(self, polygon: np.ndarray, add: bool = False) -> None:
        self.selection.set_mask(lasso_mask(self.scatter.xy, polygon), "plot", add=add)

    def _cluster_clicked(self, item: QListWidgetItem) -> None:
        label = item.data(Qt.ItemDataRole.UserRole)
        if label is not None:
            self.selection.set_mask(self.labels == int(label), "clusters")

    def _selection_changed(self, indices: np.ndarray, source: object) -> None:
        self.scatter.show_selection(indices)
        self.highlight.clear("selection")
        self._update_status()
        self._load_rows(indices)

    def _load_rows(self, indices: np.ndarray) -> None:
        if self.data is None or self.data.projection is None:
            return
        shown = indices if len(indices) else np.arange(len(self.data.projection.event_ids))
        shown = shown[: reads.TABLE_LIMIT]
        ids = self.data.projection.event_ids[shown]
        self._rows_loader.load(read_with, self.state.data_dir, _rows_for_points, shown, ids)
        self.table_label.setText("Loading events…")

    def _rows_loaded(self, loaded: tuple[np.ndarray, np.ndarray, list[reads.EventView]]) -> None:
        proj = self.data.projection if self.data else None
        shown, ids, rows = loaded
        if (
            proj is None
            or len(shown)
            and (shown[-1] >= len(proj.event_ids) or not np.array_equal(proj.event_ids[shown], ids))
        ):
            return  # a newer projection arrived meanwhile; its own load follows
        pos = {int(e): int(i) for i, e in zip(shown, ids, strict=True)}
        points = np.array([pos[r.event_id] for r in rows], dtype=np.int64)
        names = [self.cluster_name(int(self.labels[p])) for p in points]
        self._syncing = True
        self.model.set_rows(rows, points, names)
        self._syncing = False
        total = len(self.selection) or len(proj.event_ids)
        what = "selected events" if len(self.selection) else "events (select points to filter)"
        capped = f", first {len(rows):,} shown" if total > len(rows) else ""
        self.table_label.setText(f"{total:,} {what}{capped}")

    def _rows_selected(self, *_: Any) -> None:
        if self._syncing:
            return
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        self.highlight.set_indices(self.model.points[rows] if rows else [], "table")

    def select_rows(self, rows: list[int]) -> None:
        """Select table rows (as a user would); their points light up in the scatter."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        sel = QItemSelection()
        for r in rows:
            sel.select(self.model.index(r, 0), self.model.index(r, self.model.columnCount() - 1))
        self.table.selectionModel().select(
            sel,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    # -- actions -----------------------------------------------------------------------------
    def _queue_idea(self) -> None:
        item = self.ideas.currentItem()
        pid = item.data(Qt.ItemDataRole.UserRole) if item else None
        if pid is not None and hasattr(self.state, "queue_training"):
            self.state.queue_training(int(pid))

    # -- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.import_strip.start(paths)


def _rows_for_points(db, points: np.ndarray, ids: np.ndarray):
    """(points, ids, event rows) so a late result can be matched to its request."""
    return points, ids, reads.event_views(db, ids)
