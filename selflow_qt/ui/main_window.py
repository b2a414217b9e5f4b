"""The main window: docks built from a spec list, a View menu, a status bar, a saved layout."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QWidget,
)

from selflow_qt.ui.state import AppState

log = logging.getLogger(__name__)


# Each dock's module is imported when the window is first built, so the idle tray stays small.
def _dashboard(state: AppState) -> QWidget:
    from selflow_qt.ui.docks.dashboard import DashboardDock

    return DashboardDock(state)


def _training_center(state: AppState) -> QWidget:
    from selflow_qt.ui.docks.training_center import TrainingCenterDock

    return TrainingCenterDock(state)


def _cluster_explorer(state: AppState) -> QWidget:
    from selflow_qt.ui.docks.explorer import ClusterExplorerDock

    return ClusterExplorerDock(state)


def _agents(state: AppState) -> QWidget:
    from selflow_qt.ui.docks.agents import AgentsDock

    return AgentsDock(state)


def _insights(state: AppState) -> QWidget:
    from selflow_qt.ui.docks.insights import InsightsDock

    return InsightsDock(state)


@dataclass(frozen=True)
class DockSpec:
    """One dock: its id (objectName "dock-<id>"), title, how to build its widget, default area."""

    id: str
    title: str
    build: Callable[[AppState], QWidget]
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.LeftDockWidgetArea


_RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
DOCKS: tuple[DockSpec, ...] = (
    DockSpec("dashboard", "Live Dashboard", _dashboard),
    DockSpec("training", "Training Center", _training_center, _RIGHT),
    DockSpec("clusters", "Cluster Explorer", _cluster_explorer, _RIGHT),
    DockSpec("agents", "Micro-Agents", _agents),
    DockSpec("insights", "Data Insights", _insights),
)
LAYOUT_VERSION = 1


class MainWindow(QMainWindow):
    """Every dock of the app; closing the window hides it (the tray keeps running)."""

    def __init__(self, state: AppState, *, quit_on_close: bool = False) -> None:
        super().__init__()
        self.state = state
        self.quit_on_close = quit_on_close
        self.setObjectName("selflow-main")
        self.setWindowTitle("SelFlow")
        self.setDockNestingEnabled(True)
        self.resize(1400, 860)
        self.docks: dict[str, QDockWidget] = {}
        self.missing: list[str] = []
        self.view_menu = self.menuBar().addMenu("&View")
        self._build_file_menu()
        self._build_docks()
        self._build_status_bar()
        self.layout_settings = QSettings(
            str(state.data_dir / "layout.ini"), QSettings.Format.IniFormat
        )
        self._laid_out = False
        self._tabified = False
        state.collectionChanged.connect(self._show_collection)
        state.message.connect(lambda m: self.statusBar().showMessage(m, 10_000))
        state.dataChanged.connect(self._update_buffer)
        self._buffer_timer = QTimer(self)
        self._buffer_timer.timeout.connect(self._update_buffer)
        self._buffer_timer.start(10_000)
        self._update_buffer()

    # -- building ----------------------------------------------------------------------------------
    def _build_file_menu(self) -> None:
        menu = self.menuBar().addMenu("&SelFlow")
        refresh = QAction("Refresh Data", self, shortcut=QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.state.refresh)
        menu.addAction(refresh)
        analyse = QAction("Run Analysis Now", self)
        analyse.triggered.connect(lambda: self.state.start_analysis("manual"))
        menu.addAction(analyse)
        settings = QAction("Settings…", self)
        settings.triggered.connect(self.open_settings)
        menu.addAction(settings)
        menu.addSeparator()
        close = QAction("Close Window", self, shortcut=QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)
        menu.addAction(close)

    def _build_docks(self) -> None:
        by_area: dict[Qt.DockWidgetArea, list[QDockWidget]] = {}
        for spec in DOCKS:
            try:
                widget = spec.build(self.state)
            except Exception:
                log.exception("dock %s could not be built", spec.id)
                widget = None
            if widget is None:
                self.missing.append(spec.title)
                continue
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(f"dock-{spec.id}")
            dock.setWidget(widget)
            dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
            self.addDockWidget(spec.area, dock)
            by_area.setdefault(spec.area, []).append(dock)
            self.docks[spec.id] = dock
            action = dock.toggleViewAction()
            action.setText(spec.title)
            self.view_menu.addAction(action)
            self.state.dataChanged.connect(widget.refresh)
        self._dock_groups = list(by_area.values())
        if self.missing:
            self.view_menu.addSeparator()
            for title in self.missing:
                a = QAction(f"{title} (failed to load: see the log)", self)
                a.setEnabled(False)
                self.view_menu.addAction(a)
        if not self.docks:
            self.setCentralWidget(QLabel("No docks are available."))

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.collection_label = QLabel(self.state.collection_line())
        self.collection_label.setObjectName("collection-state")
        self.buffer_bar = QProgressBar()
        self.buffer_bar.setObjectName("buffer-fill")
        self.buffer_bar.setRange(0, 1000)
        self.buffer_bar.setMaximumWidth(220)
        self.buffer_bar.setFormat("Buffer: %p%")
        bar.addPermanentWidget(self.collection_label)
        bar.addPermanentWidget(self.buffer_bar)

    # -- docks ---------------------------------------------------------------------------------------
    def show_dock(self, dock_id: str) -> QWidget | None:
        """Show the window and bring the dock ``dock_id`` to the front; returns its widget."""
        self.showNormal()
        self.raise_()
        self.activateWindow()
        dock = self.docks.get(dock_id)
        if dock is None:
            self.statusBar().showMessage(f"{dock_id}: not available yet", 10_000)
            return None
        dock.show()
        dock.raise_()
        return dock.widget()

    def open_settings(self) -> None:
        """One Settings dialog at a time: a second request brings the open one to the front
        (two could be open, and OK on the older one silently undid the newer change)."""
        from selflow_qt.ui.settings_dialog import SettingsDialog

        dlg = getattr(self, "_settings_dialog", None)
        if dlg is not None and dlg.isVisible():
            dlg.raise_()
            dlg.activateWindow()
            return
        dlg = SettingsDialog(self.state, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.destroyed.connect(lambda *_: setattr(self, "_settings_dialog", None))
        self._settings_dialog = dlg
        dlg.open()

    # -- status bar ----------------------------------------------------------------------------------
    def _show_collection(self, cs) -> None:
        self.collection_label.setText(self.state.collection_line(cs))  # a stopped collector first
        collectors = cs.collectors if cs is not None else []
        self.collection_label.setToolTip("\n".join(f"{n}: {s} {d}" for n, s, d in collectors))

    def _update_buffer(self) -> None:
        """Read the buffer's fill on a worker; a busy database is tried again on the next tick."""
        self.state.run(_buffer_fill_job, self.state.job_context(), on_result=self._show_buffer)

    def _show_buffer(self, fill) -> None:
        self.buffer_bar.setValue(int(min(1000, fill.ratio * 1000)))
        self.buffer_bar.setFormat(f"Buffer: {fill.percent:.1f}% of {fill.budget_bytes >> 20} MB")

    # -- layout ----------------------------------------------------------------------------------------
    def save_layout(self) -> None:
        self.layout_settings.setValue("geometry", self.saveGeometry())
        self.layout_settings.setValue("state", self.saveState(LAYOUT_VERSION))
        self.layout_settings.sync()

    def restore_layout(self) -> bool:
        geometry = self.layout_settings.value("geometry")
        state = self.layout_settings.value("state")
        ok = False
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            ok = self.restoreState(state, LAYOUT_VERSION)
        return ok

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt override
        # Qt leaves a stale tab bar on screen when docks are tabified in a window that was
        # never shown, so docks are tabified on the first show (showEvent) and the window is
        # then put back to its size (the untabified docks may have grown it) and saved layout.
        first = visible and not self._laid_out
        size = self.size()
        super().setVisible(visible)
        if first:
            self._laid_out = True
            self.resize(size)
            self.restore_layout()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._tabified:
            self._tabified = True
            for docks in self._dock_groups:
                for other in docks[1:]:
                    self.tabifyDockWidget(docks[0], other)
                docks[0].raise_()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_layout()
        if self.quit_on_close:
            event.accept()
            from PySide6.QtWidgets import QApplication

            QApplication.quit()
            return
        event.ignore()
        self.hide()


class LazyMainWindow:
    """Builds the MainWindow on first use, so an idle tray app never loads the docks' plots."""

    def __init__(self, factory) -> None:
        self._factory = factory
        self._window: MainWindow | None = None

    @property
    def created(self) -> bool:
        return self._window is not None

    def get(self) -> MainWindow:
        if self._window is None:
            self._window = self._factory()
        return self._window

    def isVisible(self) -> bool:  # noqa: N802 - Qt's name; no window yet means not visible
        return self._window is not None and self._window.isVisible()

    def save_layout(self) -> None:
        if self._window is not None:
            self._window.save_layout()

    def __getattr__(self, name: str):
        return getattr(self.get(), name)


def _buffer_fill_job(ctx):
    from selflow_qt.store.state import buffer_fill

    return buffer_fill(ctx.db, ctx.settings.budget_bytes)
