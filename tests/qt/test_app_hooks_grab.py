"""The test hooks' screen grabs (what the e2e tests use instead of a screenshot program)."""

from __future__ import annotations

from types import SimpleNamespace

from app_hooks import run_test_command
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QWidget


def test_grab_screen_and_grab_window_save_what_the_window_system_shows(qtbot, tmp_path):
    widget = QWidget()
    widget.setStyleSheet("background: #12ab34")
    widget.setGeometry(40, 50, 120, 80)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    desktop = SimpleNamespace(state=None, window=None, recorder=None, tray=None)

    screen = tmp_path / "screen.png"
    assert run_test_command(desktop, f"grab screen {screen}") == "ok"
    size = QApplication.primaryScreen().size()
    assert (QImage(str(screen)).width(), QImage(str(screen)).height()) == (
        size.width(),
        size.height(),
    )

    one = tmp_path / "one window.png"  # a path with a space: the rest of the line
    assert run_test_command(desktop, f"grab window:{int(widget.winId())} {one}") == "ok"
    image = QImage(str(one))
    assert (image.width(), image.height()) == (120, 80)
    assert image.pixelColor(60, 40) == QColor("#12ab34")
