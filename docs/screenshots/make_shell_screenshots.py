"""Regenerate main_window.png and tray_menu.png (offscreen, real store, real analysis cycle).

    .venv/bin/python docs/screenshots/make_shell_screenshots.py

Fills a temporary data folder with three demo days ending today, runs one analysis cycle, then
renders the main window and the tray menu with its Today's Activity submenu open.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from selflow_qt.demo.generator import write_demo
    from selflow_qt.ui.app_hooks import grab_menu
    from selflow_qt.ui.main_window import MainWindow
    from selflow_qt.ui.resources import app_icon, stylesheet
    from selflow_qt.ui.state import AppState
    from selflow_qt.ui.tray.icon import TrayController
    from selflow_qt.workers.worker import Worker

    app.setStyleSheet(stylesheet())
    data = Path(tempfile.mkdtemp(prefix="selflow-shots-"))
    state = AppState(data, start_services=False)
    midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    write_demo(state.ctx, 3, 7, start=(midnight - timedelta(days=2)).timestamp())
    done: list = []
    state.analysisFinished.connect(done.append)
    state.analysisFailed.connect(done.append)
    state.start_analysis()
    while not done:
        app.processEvents()
        time.sleep(0.05)
    win = MainWindow(state)
    win.resize(1500, 900)
    win.show()
    tray = TrayController(state, win, app_icon(), show_icon=False)
    state.refresh()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)
        if not any(not w.is_done for w in Worker.running()) and time.monotonic() > deadline - 15:
            break
    win.show_dock("dashboard")
    win.show_dock("clusters")
    settle = time.monotonic() + 1.5  # let the dock layout settle before the grab
    while time.monotonic() < settle:
        app.processEvents()
        time.sleep(0.05)
    win.grab().save(str(HERE / "main_window.png"))
    grab_menu(tray, "today").save(str(HERE / "tray_menu.png"))
    state.shutdown(10_000)
    print(f"saved {HERE / 'main_window.png'} and {HERE / 'tray_menu.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
