"""The Cluster Explorer's event table: a QAbstractTableModel over plain event rows."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from selflow_qt.store.queries.explorer import EventView

COLUMNS = ("Time", "Source", "Action", "Cluster", "What")


class EventTableModel(QAbstractTableModel):
    """Rows are events; each row remembers its point index in the scatter."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[EventView] = []
        self.points = np.empty(0, dtype=np.int64)  # row -> point index
        self.cluster_names: list[str] = []  # row -> cluster name

    def set_rows(self, rows: list[EventView], points: np.ndarray, cluster_names: list[str]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.points = np.asarray(points, dtype=np.int64)
        self.cluster_names = cluster_names
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        ev = self.rows[index.row()]
        col = index.column()
        if col == 0:
            return ev.when
        if col == 1:
            return ev.source
        if col == 2:
            return ev.action
        if col == 3:
            return self.cluster_names[index.row()] if self.cluster_names else ""
        return ev.subject

    def rows_for_points(self, point_indices: np.ndarray) -> np.ndarray:
        """Table rows showing any of these points."""
        return np.flatnonzero(np.isin(self.points, point_indices))
