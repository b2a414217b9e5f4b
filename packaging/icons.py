"""Render resources/selflow.svg into an icon file PyInstaller can use (.ico, .icns or .png).

Run as ``python packaging/icons.py SVG OUT [SIZE]``; selflow.spec does so on Windows and macOS.
Qt's own image plugins write ICO and ICNS, so no Pillow is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def render_icon(svg: Path, out: Path, size: int = 256) -> Path:
    """Draw ``svg`` at ``size`` x ``size`` pixels and save it in the format ``out``'s suffix names."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts need an app
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"icons.py: {svg} is not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out)):
        raise SystemExit(f"icons.py: Qt could not write {out} (no image plugin for its format?)")
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit("usage: python packaging/icons.py SVG OUT [SIZE]")
    size = int(sys.argv[3]) if len(sys.argv) == 4 else 256
    print(render_icon(Path(sys.argv[1]), Path(sys.argv[2]), size))
