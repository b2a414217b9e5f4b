"""The strip under the Cluster Explorer that shows a drop's import: progress bar and outcome."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from selflow_qt.core.format import count

HINT = "Drop JSONL, ActivityWatch exports, shell history or folders here."


def local_paths(mime: QMimeData) -> list[str]:
    """The local files and folders a drag carries."""
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


def describe_report(report: Any) -> str:
    """One line for an import report (imported events, new watched roots, errors)."""
    parts = []
    if getattr(report, "imported", None):
        parts.append(f"imported {count(getattr(report, 'total', 0), 'event')}")
    if getattr(report, "watched", None):
        parts.append("now watching " + ", ".join(report.watched))
    for path, err in (getattr(report, "errors", None) or {}).items():
        parts.append(f"{path or 'import'}: {err}")
    return "Import: " + ("; ".join(parts) or "nothing found to import")


class ImportStrip(QWidget):
    """Follows ``state.importProgress`` / ``importFinished`` for drops made on its dock."""

    def __init__(self, state: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.bar = QProgressBar()
        self.bar.hide()
        self.label = QLabel(HINT)
        self.label.setStyleSheet("color: #606060;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.bar)
        lay.addWidget(self.label)
        state.importProgress.connect(self.on_progress)
        state.importFinished.connect(self.on_finished)

    def start(self, paths: list[str]) -> None:
        """Import ``paths`` through the app state, showing a busy bar until progress arrives."""
        self.bar.setRange(0, 0)
        self.bar.show()
        self.label.setText(f"Importing {len(paths)} item(s)…")
        self.state.import_paths(paths)

    @Slot(str, int, int)
    def on_progress(self, path: str, done: int, total: int) -> None:
        self.bar.show()
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        if path:
            self.label.setText(f"Importing {path} ({done + 1}/{total})")

    @Slot(object)
    def on_finished(self, report: Any) -> None:
        self.bar.hide()
        self.label.setText(describe_report(report))
