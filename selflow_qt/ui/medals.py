"""The gold, silver and bronze discs the tray and the docks draw beside the top three ranks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from selflow_qt.core.ranking import MEDAL_COLOURS

_medals: dict[int, QIcon] = {}


def medal_icon(rank: int) -> QIcon | None:
    """A disc numbered 1-3 for 0-based ranks 0-2, None after (drawn: emoji fonts are not everywhere)."""
    if rank >= len(MEDAL_COLOURS):
        return None
    if rank not in _medals:
        pm = QPixmap(32, 32)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(MEDAL_COLOURS[rank]))
        p.setPen(QColor("#5a4a2a"))
        p.drawEllipse(3, 3, 26, 26)
        p.setPen(QColor("white"))
        font = p.font()
        font.setPixelSize(17)
        font.setBold(True)
        p.setFont(font)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, str(rank + 1))
        p.end()
        _medals[rank] = QIcon(pm)
    return _medals[rank]
