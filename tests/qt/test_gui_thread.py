"""The GUI thread draws: opening the window and refreshing the tray read nothing on it."""

from __future__ import annotations

import threading

from peewee import SqliteDatabase

from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.resources import app_icon
from selflow_qt.ui.tray.icon import TrayController


def test_window_and_tray_do_no_database_io_on_the_gui_thread(qtbot, shell_state, monkeypatch):
    on_gui: list[str] = []
    real = SqliteDatabase.execute_sql

    def spy(self, sql, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            on_gui.append(sql)
        return real(self, sql, *args, **kwargs)

    monkeypatch.setattr(SqliteDatabase, "execute_sql", spy)
    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    window.show()
    tray = TrayController(shell_state, window, app_icon(), show_icon=False)
    with qtbot.waitSignal(tray.refreshed, timeout=15_000):
        tray.refresh()
    tray.command("mark-read")
    qtbot.waitUntil(lambda: " of " in window.buffer_bar.format(), timeout=10_000)
    tray.timer.stop()
    assert on_gui == []
