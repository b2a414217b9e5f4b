"""The app icon and stylesheet from ``resources/`` (drawn in code when the folder is absent)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)


def resources_dir() -> Path | None:
    """``resources/`` next to the package (a source checkout) or inside a PyInstaller bundle."""
    candidates = [Path(__file__).resolve().parents[2] / "resources"]
    if hasattr(sys, "_MEIPASS"):
        candidates.insert(0, Path(sys._MEIPASS) / "resources")
    return next((p for p in candidates if p.is_dir()), None)


def draw_icon(size: int = 256) -> QPixmap:
    """The flow glyph of resources/selflow.svg, painted directly."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    s = size / 256
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    grad = QLinearGradient(0, 0, size, size)
    grad.setColorAt(0, QColor("#3b6fd8"))
    grad.setColorAt(1, QColor("#17a398"))
    p.setBrush(QBrush(grad))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(8 * s, 8 * s, 240 * s, 240 * s, 56 * s, 56 * s)
    path = QPainterPath(QPointF(64 * s, 176 * s))
    path.cubicTo(96 * s, 176 * s, 96 * s, 80 * s, 128 * s, 80 * s)
    path.cubicTo(160 * s, 80 * s, 160 * s, 176 * s, 192 * s, 176 * s)
    pen = QPen(QColor("white"), 18 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("white"))
    p.drawEllipse(QPointF(64 * s, 176 * s), 24 * s, 24 * s)
    p.drawEllipse(QPointF(128 * s, 80 * s), 24 * s, 24 * s)
    p.setBrush(QColor("#17a398"))
    p.setPen(QPen(QColor("white"), 10 * s))
    p.drawEllipse(QPointF(192 * s, 176 * s), 22 * s, 22 * s)
    p.end()
    return pm


def app_icon() -> QIcon:
    folder = resources_dir()
    if folder is not None and (folder / "selflow.svg").exists():
        icon = QIcon(str(folder / "selflow.svg"))
        if not icon.isNull() and not icon.pixmap(32, 32).isNull():
            return icon
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64, 128, 256):
        icon.addPixmap(draw_icon(size))
    return icon


def stylesheet() -> str:
    folder = resources_dir()
    path = folder / "style.qss" if folder is not None else None
    return path.read_text(encoding="utf-8") if path is not None and path.exists() else ""
