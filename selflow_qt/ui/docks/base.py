"""Small shared pieces of the docks: a coalescing background loader and an empty-state label."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThreadPool
from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QWidget

from selflow_qt.ui.medals import medal_icon

NO_ANALYSIS = "No analysis yet — run one from here"


class BackgroundLoader(QObject):
    """Runs one read function at a time on a Worker; a request while busy reruns it once after.

    Results come back on the GUI thread through ``on_result``; errors go to ``on_error``.
    """

    def __init__(
        self,
        parent: QObject,
        on_result: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_result = on_result
        self._on_error = on_error
        self._pool = pool
        self._busy = False
        self._again: tuple | None = None
        self.loads = 0  # finished loads, for tests and diagnostics

    @property
    def busy(self) -> bool:
        return self._busy

    def load(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self._busy:
            self._again = (fn, args, kwargs)
            return
        from selflow_qt.workers.worker import run_in_worker

        self._busy = True
        run_in_worker(
            fn,
            *args,
            on_result=self._result,
            on_error=self._error,
            on_finished=self._finished,
            pool=self._pool,
            **kwargs,
        )

    def _result(self, value: Any) -> None:
        self._on_result(value)

    def _error(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(message)

    def _finished(self) -> None:
        self._busy = False
        self.loads += 1
        again, self._again = self._again, None
        if again is not None:
            fn, args, kwargs = again
            self.load(fn, *args, **kwargs)


def empty_label(text: str = NO_ANALYSIS, parent: QWidget | None = None) -> QLabel:
    """A centred grey hint shown where data is missing."""
    label = QLabel(text, parent)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setStyleSheet("color: #707070; padding: 12px;")
    return label


def fill_table(
    table: QTableWidget, rows: list[list[Any]], align_right: set[int] | None = None
) -> None:
    """Replace a QTableWidget's rows in place with read-only text cells."""
    align_right = align_right or set()
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = table.item(r, c)
            if item is None:
                item = QTableWidgetItem()
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                table.setItem(r, c, item)
            item.setText("" if value is None else str(value))
            if c in align_right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def make_table(headers: list[str], stretch_last: bool = True) -> QTableWidget:
    """A compact, read-only, row-selecting table with the given headers."""
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView

    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setAlternatingRowColors(True)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(stretch_last)
    return t


def set_medals(
    table: QTableWidget, column: int = 0, ranked: int | None = None, medals: int | None = None
) -> None:
    """Rank numbers for the ``ranked`` top rows (rows past it, e.g. not scored yet, get none);
    medal icons for the first three of the ``medals`` top rows (those that ever succeeded: a
    predictor right 0% of the time gets no medal)."""
    from PySide6.QtGui import QIcon

    ranked = table.rowCount() if ranked is None else ranked
    medals = ranked if medals is None else min(medals, ranked)
    for r in range(table.rowCount()):
        item = table.item(r, column)
        if item is None:
            continue
        item.setText(str(r + 1) if r < ranked else "–")
        icon = medal_icon(r) if r < medals else None
        item.setIcon(icon if icon is not None else QIcon())
