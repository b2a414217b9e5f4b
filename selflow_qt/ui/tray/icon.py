"""The tray icon: its live menu, tray messages for notifications and for a collector that stopped
seeing events, and what menu choices do."""

from __future__ import annotations

import logging
import os
import shlex
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from selflow_qt.core.format import count
from selflow_qt.core.wording import name_agents
from selflow_qt.store.queries.tray import TraySnapshot, mark_notifications_read
from selflow_qt.ui.state import AppState
from selflow_qt.ui.tray.menu import MenuData, TrayMenu
from selflow_qt.workers import jobs

log = logging.getLogger(__name__)

REFRESH_MS = 30_000


class TrayController(QObject):
    """Owns the tray menu (with or without a visible tray icon) and keeps it live."""

    refreshed = Signal(object)  # MenuData, after the menu was updated
    menuChanged = Signal(object)  # MenuData the menu now shows (refresh, suggestions, collection)
    quitRequested = Signal()

    def __init__(self, state: AppState, window, icon: QIcon, *, show_icon: bool = True) -> None:
        super().__init__()
        self.state = state
        self.window = window
        self.menu = TrayMenu(self.command)
        self.data = self._menu_data(TraySnapshot(), list(state.suggestions), state.collection)
        self._told: set[str] = set()  # collection problems already shown as a tray message
        self.last_refresh_ms = 0.0
        self._pending = None
        self._again = False
        self._last_note_id: int | None = None
        self.icon: QSystemTrayIcon | None = None
        if show_icon:
            self.icon = QSystemTrayIcon(icon, self)
            self.icon.setToolTip("SelFlow")
            self.icon.setContextMenu(self.menu.menu)
            self.icon.activated.connect(self._activated)
            self.icon.show()
            log.info("tray icon shown")
        self.menu.menu.aboutToShow.connect(self.refresh)
        state.suggestionsChanged.connect(self._on_suggestions)
        state.dataChanged.connect(self.refresh)
        state.notificationsChanged.connect(self.refresh)
        state.notify.connect(self.show_message)
        state.collectionChanged.connect(self.apply_collection)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.menu.apply(self.data)
        QTimer.singleShot(0, self.refresh)

    def _menu_data(self, snap: TraySnapshot, suggestions: list, cs) -> MenuData:
        return MenuData(snap, suggestions, cs, self.state.collection_line(cs))

    # -- refresh ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the store on a worker; the menu is updated in place when the numbers arrive."""
        if self._pending is not None:  # one read at a time; a request meanwhile reruns once
            self._again = True
            return
        self._again = False
        self._pending = self.state.run(
            jobs.tray_snapshot_job,
            self.state.job_context(),
            on_result=self.apply_snapshot,
            on_error=lambda m: log.warning("tray refresh failed: %s", m),
            on_finished=self._refresh_done,
        )

    def _refresh_done(self) -> None:
        self._pending = None
        if self._again:
            self.refresh()

    def apply_snapshot(self, snap: TraySnapshot) -> None:
        t0 = time.perf_counter()
        self.data = self._menu_data(snap, list(self.data.suggestions), self.data.collection)
        self.menu.apply(self.data)
        self.last_refresh_ms = snap.took_ms + (time.perf_counter() - t0) * 1000
        self._announce(snap)
        self._update_tooltip()
        self.menuChanged.emit(self.data)
        self.refreshed.emit(self.data)

    def _on_suggestions(self, suggestions: list) -> None:
        self.data = self._menu_data(self.data.snap, list(suggestions), self.data.collection)
        self.menu.apply(self.data)
        self.menuChanged.emit(self.data)

    def apply_collection(self, cs: jobs.CollectionState) -> None:
        """The collection's line in the menu and tooltip; a new problem also becomes a message."""
        self.data = self._menu_data(self.data.snap, list(self.data.suggestions), cs)
        self.menu.apply(self.data)
        self._update_tooltip()
        problems = cs.problems if cs is not None else []
        for line in problems:
            if line not in self._told:
                what, _, why = line.partition(": ")
                self.show_message(what, why or line)
        self._told = set(problems)  # a problem that clears and comes back is told again
        self.menuChanged.emit(self.data)

    def tooltip(self) -> str:
        """The tray icon's tooltip: today's count and buffer, and a collection problem if any."""
        snap = self.data.snap
        text = (
            f"SelFlow — {count(snap.events_today, 'event')} today, "
            f"buffer {snap.buffer_percent:.0f}% full"
        )
        cs = self.data.collection
        if cs is not None and cs.problems:
            text += "\n" + cs.summary()
        return text

    def _update_tooltip(self) -> None:
        if self.icon is not None:
            self.icon.setToolTip(self.tooltip())

    def _announce(self, snap: TraySnapshot) -> None:
        """Unread notifications that arrived since the last refresh become tray messages."""
        ids = [n["id"] for n in snap.notifications]
        if self._last_note_id is None:  # first read: remember, don't replay old news
            self._last_note_id = max(ids, default=0)
            return
        names = {a.model_id: a.specialization for a in snap.agents}
        fresh = [
            {**n, "title": name_agents(n["title"], names), "body": name_agents(n["body"], names)}
            for n in snap.notifications
            if n["id"] > self._last_note_id
        ]
        if fresh:
            self._last_note_id = max(n["id"] for n in fresh)
            if len(fresh) == 1:
                self.show_message(fresh[0]["title"], fresh[0]["body"])
            else:
                self.show_message(
                    f"{len(fresh)} new notifications", "\n".join(n["title"] for n in fresh[:4])
                )

    def show_message(self, title: str, body: str) -> None:
        log.info("notification: %s: %s", title, body)
        if self.icon is not None and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, body, QSystemTrayIcon.MessageIcon.Information, 8000)
        elif self.window is not None:
            self.window.statusBar().showMessage(f"{title}: {body}", 15_000)

    # -- commands --------------------------------------------------------------------------------
    def command(self, name: str, payload: Any = None) -> None:
        if name.startswith("dock:"):
            self.window.show_dock(name.split(":", 1)[1])
        elif name == "settings":
            self.window.showNormal()
            self.window.open_settings()
        elif name == "refresh":
            self.state.refresh()
            self.state.refresh_suggestions(force=True)
        elif name == "quit":
            self.quitRequested.emit()
        elif name == "import":
            self.import_files()
        elif name == "analyze":
            self.state.start_analysis("manual")
        elif name == "pause":
            self.toggle_collection()
        elif name == "choose" and payload is not None:
            self.choose(payload)
        elif name == "notification" and payload is not None:
            self.window.show_dock("insights")
            self._mark_read([int(payload)])
        elif name == "mark-read":
            self._mark_read(None)

    def import_files(self) -> None:
        """A file dialog for histories, ActivityWatch exports and JSONL; imported on a worker."""
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(
            None,
            "Import into SelFlow",
            str(Path.home()),
            "Activity files (*.jsonl *.json *history* *.txt);;All files (*)",
        )
        if paths:
            self.state.import_paths(paths)

    def toggle_collection(self) -> None:
        action = self.menu.actions["pause"]
        if self.state.collection_paused:
            self.state.resume_collection()
            action.setText("Pause collection")
        else:
            self.state.pause_collection()
            action.setText("Resume collection")

    def _mark_read(self, ids: list[int] | None) -> None:
        """Mark notifications read on a worker (the GUI thread does no database I/O)."""
        self.state.run(_mark_read_job, self.state.job_context(), ids, on_finished=self.refresh)

    def choose(self, s: Any) -> str:
        """Act on a suggestion: open the file or app, or copy the command; record the choice.

        A file that is gone is not "opened" (nor recorded as taken); an app the guess expects
        to be closed (``close find``) is not started.
        """
        key = getattr(s, "key", "") or ""
        action = key.split(" ")[1] if key.count(" ") >= 2 else ""
        if s.kind == "file" and s.path and not os.path.exists(s.path):
            done = f"{s.path} no longer exists"
            self.state.message.emit(done)
            return done
        if s.kind == "app" and action in ("close", "quit", "exit", "kill"):
            done = f"Up next was closing {s.app or s.text}: nothing to start"
            self.state.message.emit(done)
            return done
        if s.kind == "file" and s.path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(s.path))
            done = f"Opened {s.path}"
        elif s.kind == "app" and s.app:
            parts = shlex.split(s.app)
            ok = QProcess.startDetached(parts[0], parts[1:])
            done = f"Started {s.app}" if ok else f"Could not start {s.app}"
        else:
            QGuiApplication.clipboard().setText(s.cmd or s.text)
            done = f"Copied to the clipboard: {s.cmd or s.text}"
        self.state.record_choice(getattr(s, "interaction_id", None))
        self.state.message.emit(done)
        return done

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.window.show_dock("dashboard")


def tray_available() -> bool:
    return QApplication.instance() is not None and QSystemTrayIcon.isSystemTrayAvailable()


def _mark_read_job(ctx, ids: list[int] | None) -> None:
    mark_notifications_read(ctx.db, ids)
