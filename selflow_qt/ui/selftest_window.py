"""The self-test's window step: build the main window offscreen, render it once, save the image."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.state import AppState


def render_main_window(data_dir: Path, image_path: Path, settle_s: float = 3.0) -> str:
    """Show the main window on ``data_dir``'s store, grab it into ``image_path``; a summary line."""
    app = QApplication.instance() or QApplication(["selflow", "-platform", "offscreen"])
    state = AppState(data_dir, start_services=False)
    window = MainWindow(state, quit_on_close=False)
    try:
        window.show()
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:  # let the docks' first reads arrive
            app.processEvents()
            time.sleep(0.05)
        image = window.grab()
        if image.isNull() or image.width() < 100 or image.height() < 100:
            raise AssertionError(f"rendered an empty image ({image.width()}x{image.height()})")
        image.save(str(image_path))
        docks = ", ".join(window.docks) or "none"
    finally:
        window.hide()
        state.shutdown()
        window.deleteLater()
        app.processEvents()
    return f"{image.width()}x{image.height()} on {app.platformName()}; docks: {docks}"
