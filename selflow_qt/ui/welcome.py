"""The first-start welcome: what is watched, what never is, where data lives, how to pause,
and an offer to import the shell histories and ActivityWatch data found here, so that named
patterns appear on day one instead of after a day of collection."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.workers.jobs import FirstRun

FIRST_ANALYSIS_EVENTS = 30  # an import this large is analysed at once (the cycle's minimum)


def _home(path: str) -> str:
    home = str(Path.home())
    if path == home:
        return "~"
    return "~" + path[len(home) :] if path.startswith(home + "/") else path


def _label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class WelcomeDialog(QDialog):
    """Shown once, on a first start (no events yet); not modal: collection already runs."""

    importChosen = Signal(list)  # paths and URLs to import

    def __init__(self, state: Any, info: FirstRun, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.info = info
        self.setObjectName("welcome")
        self.setWindowTitle("Welcome to SelFlow")
        self.setMinimumWidth(600)
        self.checks: list[tuple[QCheckBox, str]] = []
        lay = QVBoxLayout(self)
        lay.addWidget(
            _label(
                "<h2>Welcome to SelFlow</h2>SelFlow learns the workflows you repeat on this "
                "computer and suggests what comes next. Everything stays on this computer."
            )
        )
        for title, body in self._sections():
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(_label(body))
            lay.addWidget(box)
        lay.addWidget(self._import_box())
        lay.addWidget(
            _label(
                "<span style='color:#505050'>Without an import, the first analysis starts by "
                "itself after about an hour of activity; new behaviour is noticed within minutes "
                "of it showing up. Import more later from the tray: <b>Import…</b></span>"
            )
        )
        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton(
            "Import and analyse", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setObjectName("welcome-import")
        self.skip_button = self.buttons.addButton(
            "Start without importing", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.import_button.setDefault(True)
        self.import_button.setAutoDefault(True)
        self.buttons.accepted.connect(self._import)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._update_button()

    def _sections(self) -> list[tuple[str, str]]:
        s = self.state.settings
        roots = ", ".join(f"<code>{html.escape(_home(r))}</code>" for r in s.watch_roots)
        watched = []
        if s.collect_fs:
            watched.append(f"files created, changed, moved or deleted under {roots or '(none)'}")
        if s.collect_apps:
            watched.append("which apps you start, close and use (the window in front)")
        if s.collect_shell:
            watched.append("the commands you type in bash, zsh and fish")
        capture = (
            "<br>".join(f"• {w}" for w in watched)
            if getattr(self.state, "live_capture", True)
            else "Nothing: this is a demo data folder, so live capture is off."
        )
        data_dir = html.escape(str(self.state.data_dir))
        return [
            ("What SelFlow watches", capture),
            (
                "Never recorded",
                "• passwords, tokens and keys in commands: redacted before anything is written<br>"
                "• key and secret files: <code>~/.ssh</code>, <code>~/.gnupg</code>, "
                "<code>.env</code>, <code>*.pem</code>, password stores, browser profiles<br>"
                "• file contents: only names, folders and times; add your own exclusions in "
                "Settings",
            ),
            (
                "Where your data lives",
                f"<code>{data_dir}</code><br>One SQLite file and the trained agents; nothing is "
                "sent anywhere. Delete the folder to erase everything.",
            ),
            (
                "How to pause",
                "Tray menu → <b>Pause collection</b> (and <b>Resume collection</b>). "
                "Quit SelFlow and nothing is recorded at all.",
            ),
        ]

    def _import_box(self) -> QGroupBox:
        box = QGroupBox("Start with what you already did")
        lay = QVBoxLayout(box)
        for path, lines in self.info.histories:
            cb = QCheckBox(f"Shell history {_home(path)} (about {lines:,} commands)")
            cb.setChecked(True)
            cb.toggled.connect(self._update_button)
            lay.addWidget(cb)
            self.checks.append((cb, path))
        if self.info.activitywatch:
            cb = QCheckBox(f"ActivityWatch, running at {self.info.activitywatch}")
            cb.setChecked(True)
            cb.toggled.connect(self._update_button)
            lay.addWidget(cb)
            self.checks.append((cb, self.info.activitywatch))
        if not self.checks:
            lay.addWidget(
                _label(
                    "No shell history or running ActivityWatch was found. SelFlow learns from "
                    "what you do from now on."
                )
            )
        return box

    def chosen(self) -> list[str]:
        return [src for cb, src in self.checks if cb.isChecked()]

    def _update_button(self) -> None:
        self.import_button.setEnabled(bool(self.chosen()))

    def _import(self) -> None:
        sources = self.chosen()
        if sources:
            self.importChosen.emit(sources)
        self.accept()


def start_welcome_import(state: Any, sources: list[str]) -> None:
    """Import the chosen sources, then analyse them at once when there is enough to learn from."""

    def done(report) -> None:
        state.importFinished.disconnect(done)
        if getattr(report, "total", 0) >= FIRST_ANALYSIS_EVENTS:
            state.start_analysis(trigger="import")
        state.check_incremental()

    state.importFinished.connect(done)
    state.message.emit(f"Importing {len(sources)} source{'s' if len(sources) > 1 else ''}…")
    state.import_paths(sources)


def mark_welcome_done(state: Any) -> None:
    """Remember that the welcome was shown (it never comes back for this data folder)."""
    from dataclasses import replace

    settings = replace(state.settings, welcome_done=True)
    state.save_settings(settings)
