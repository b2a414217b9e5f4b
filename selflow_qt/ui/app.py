"""The desktop app: a QApplication on a qasync loop, one instance per data folder, tray + window."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from selflow_qt.core.data_folder import folder_problem
from selflow_qt.core.settings import resolve_data_dir
from selflow_qt.workers import jobs

log = logging.getLogger(__name__)

NO_TRAY_MESSAGE = (
    "No system tray was found on this desktop, so SelFlow shows its window instead; closing the "
    "window quits SelFlow. (GNOME needs the AppIndicator extension for tray icons.)"
)


# Test hooks (tests/support/app_hooks.py) are plugged in by the tests' launcher, never shipped.
_test_hooks = None


def install_test_hooks(module) -> None:
    """Let the control socket run test commands; the hooks' recorder sees the app as it starts."""
    global _test_hooks
    _test_hooks = module


class DesktopApp:
    """Everything one running app holds: state, main window, tray, control socket."""

    def __init__(self, app: QApplication, data_dir, lock) -> None:
        from selflow_qt.ui.control import ControlServer
        from selflow_qt.ui.main_window import LazyMainWindow, MainWindow
        from selflow_qt.ui.resources import app_icon
        from selflow_qt.ui.state import AppState
        from selflow_qt.ui.tray.icon import TrayController

        self.app = app
        self.lock = lock
        self.quitting = False
        self.has_tray = QSystemTrayIcon.isSystemTrayAvailable()
        self.state = AppState(data_dir, start_services=True)

        def build_window() -> MainWindow:
            win = MainWindow(self.state, quit_on_close=not self.has_tray)
            win.setWindowIcon(app_icon())
            return win

        # With a tray the window (and its plots) is built when first opened: idle stays small.
        self.window = LazyMainWindow(build_window)
        self.tray = TrayController(self.state, self.window, app_icon(), show_icon=self.has_tray)
        self.tray.quitRequested.connect(self.quit)
        self.control = ControlServer(self.state.data_dir, self.handle_command)
        self.recorder = None if _test_hooks is None else _test_hooks.HookRecorder(self)
        app.aboutToQuit.connect(self.shutdown)
        self.welcome = None
        self.state.run(  # on a worker: counting events is database I/O
            jobs.first_run_job,
            self.state.job_context(),
            on_result=self.show_welcome,
            on_error=lambda m: log.warning("first-start check failed: %s", m),
        )
        if self.has_tray:
            log.info("tray icon shown; SelFlow runs in the tray")
        else:
            log.warning(NO_TRAY_MESSAGE)
            self.window.show()
            self.window.statusBar().showMessage(NO_TRAY_MESSAGE, 0)

    def show_welcome(self, info: jobs.FirstRun) -> None:
        """On a first start: the welcome window (what is watched, where data lives, imports)."""
        from selflow_qt.ui.welcome import WelcomeDialog, mark_welcome_done, start_welcome_import

        if not info.needed or self.quitting:
            return
        self.welcome = WelcomeDialog(self.state, info)
        self.welcome.importChosen.connect(
            lambda src: start_welcome_import(self.state, src, on_patterns=self.show_patterns)
        )
        self.welcome.finished.connect(lambda _r: mark_welcome_done(self.state))
        self.welcome.show()
        self.welcome.raise_()
        self.welcome.activateWindow()

    def show_patterns(self, result) -> None:
        """The first import's analysis is done: the window opens on the patterns it found, named
        (the Cluster Explorer), with their names in the status bar."""
        from selflow_qt.app.messages import found_patterns_line

        if self.quitting:
            return
        self.window.show_dock("clusters")
        line = found_patterns_line(result.patterns)  # after the hub's own "Analysis finished"
        QTimer.singleShot(0, lambda: self.window.statusBar().showMessage(line, 0))

    def handle_command(self, line: str) -> str:
        cmd = line.split()[0] if line.split() else ""
        if cmd in ("show", ""):
            self.window.show_dock("dashboard")
            return "ok"
        if cmd == "ping":
            return "ok"
        if _test_hooks is None:
            return "error unknown command"
        return _test_hooks.run_test_command(self, line)

    def quit(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        self.window.save_layout()
        self.shutdown()
        self.app.quit()

    def shutdown(self) -> None:
        """Stop collection (it flushes), wait for every worker, release the lock. Idempotent."""
        if getattr(self, "_shut", False):
            return
        self._shut = True
        log.info("stopping: waiting for background work to finish")
        self.control.close()
        ok = self.state.shutdown()
        log.info("stopped cleanly" if ok else "stopped; some work did not finish in time")
        if self.tray.icon is not None:
            self.tray.icon.hide()
        self.lock.unlock()


def cannot_start(problem: str) -> int:
    """Say why the app cannot start, on stderr and in a dialog (the CLI words it alike: both
    use core.data_folder.folder_problem); the exit status."""
    from PySide6.QtWidgets import QMessageBox

    print(f"selflow: {problem}", file=sys.stderr)
    box = QMessageBox(
        QMessageBox.Icon.Critical, "SelFlow cannot start", problem[:1].upper() + problem[1:]
    )
    box.setObjectName("startup-error")
    box.exec()
    return 1


def run_app(args: argparse.Namespace) -> int:
    """Start the desktop app; returns its exit status."""
    import qasync

    from selflow_qt.ui.control import acquire_lock, send_command
    from selflow_qt.ui.gc_guard import GuiThreadGarbageCollector
    from selflow_qt.ui.resources import app_icon, stylesheet

    app = QApplication.instance() or QApplication(sys.argv[:1])
    data_dir = resolve_data_dir(getattr(args, "data_dir", None), create=False)
    try:
        data_dir = resolve_data_dir(getattr(args, "data_dir", None))
        lock = acquire_lock(data_dir)
    except OSError as exc:  # a file where the folder should be, a read-only folder
        return cannot_start(folder_problem(data_dir, exc) or str(exc))
    app.setApplicationName("SelFlow")
    app.setOrganizationName("SelFlow")
    app.setQuitOnLastWindowClosed(False)
    collector = GuiThreadGarbageCollector(parent=app)  # noqa: F841 (lives with the app)
    app.setWindowIcon(app_icon())
    app.setStyleSheet(stylesheet())
    if lock is None:
        answer = send_command(data_dir, "show")
        print(
            f"SelFlow is already running for {data_dir}"
            + ("; its window was brought to the front." if answer == "ok" else "."),
            file=sys.stderr,
        )
        return 0

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        desktop = DesktopApp(app, data_dir, lock)
    except OSError as exc:  # its database or settings cannot be written
        lock.unlock()
        return cannot_start(folder_problem(data_dir, exc) or str(exc))
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, lambda: QTimer.singleShot(0, desktop.quit))
        except (NotImplementedError, RuntimeError, ValueError):
            signal.signal(sig, lambda *_: QTimer.singleShot(0, desktop.quit))
    print(f"SelFlow is running (data folder: {data_dir}).", file=sys.stderr)
    with loop:
        loop.run_until_complete(closed.wait())
    desktop.shutdown()
    return 0
