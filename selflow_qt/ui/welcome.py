"""The first-start welcome: what is watched, what never is, where data lives, how to pause,
and an offer to import the shell histories and ActivityWatch data found here, so that named
patterns appear on day one instead of after a day of collection."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.collect import shell_rc
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
        self.setMinimumWidth(640)
        self.checks: list[tuple[QCheckBox, str]] = []
        outer = QVBoxLayout(self)
        outer.addWidget(
            _label(
                "<h2>Welcome to SelFlow</h2>SelFlow learns the workflows you repeat on this "
                "computer and suggests what comes next. Everything stays on this computer."
            )
        )
        # On a small screen the sections scroll instead of being squeezed (and clipped).
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        for title, body in self._sections():
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(_label(body))
            lay.addWidget(box)
        lay.addWidget(self._import_box())
        lay.addWidget(self._shell_box())
        lay.addWidget(
            _label(
                "<span style='color:#505050'>Without an import, the first analysis starts by "
                "itself after about an hour of activity; new behaviour is noticed within minutes "
                "of it showing up. Import more later from the tray: <b>Import…</b></span>"
            )
        )
        lay.addStretch(1)
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
        outer.addWidget(self.buttons)
        self.resize(680, 780)
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

    def _shell_box(self) -> QGroupBox:
        """The one line that hooks the user's shell, a Copy button, and "Add it for me"."""
        box = QGroupBox("See each command as it runs, and get the next one at your prompt")
        lay = QVBoxLayout(box)
        self.shell = shell_rc.user_shell()
        self.hook_line = QLineEdit()
        self.hook_line.setObjectName("welcome-hook-line")
        self.hook_line.setReadOnly(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("welcome-hook-copy")
        self.add_button = QPushButton("Add it for me")
        self.add_button.setObjectName("welcome-hook-add")
        for button in (self.copy_button, self.add_button):  # Return stays "Import and analyse"
            button.setAutoDefault(False)
        self.hook_status = _label("")
        self.hook_status.setObjectName("welcome-hook-status")
        if self.shell is None:
            shell = html.escape(Path(os.environ.get("SHELL", "") or "none").name)
            lay.addWidget(
                _label(
                    f"Your shell ({shell}) has no SelFlow hook (bash, zsh and fish do); its "
                    "history file is read instead."
                )
            )
            return box
        data_dir = None if _is_default_folder(self.state.data_dir) else self.state.data_dir
        self.hook_line.setText(shell_rc.rc_line(self.shell, shell_rc.selflow_command(data_dir)))
        self.hook_line.setCursorPosition(0)  # a long line shows its start: eval "$(selflow ...
        self.rc_path = shell_rc.rc_file(self.shell)
        lay.addWidget(
            _label(
                f"Add this line to <code>{html.escape(_home(str(self.rc_path)))}</code>: your "
                f"{self.shell} then tells SelFlow each command as it finishes (its folder, exit "
                "status and duration) and shows SelFlow's suggestion at the prompt."
            )
        )
        row = QHBoxLayout()
        row.addWidget(self.hook_line, 1)
        row.addWidget(self.copy_button)
        row.addWidget(self.add_button)
        lay.addLayout(row)
        lay.addWidget(self.hook_status)
        self.copy_button.clicked.connect(self._copy_hook)
        self.add_button.clicked.connect(self._add_hook)
        return box

    def _copy_hook(self) -> None:
        QApplication.clipboard().setText(self.hook_line.text())
        self.hook_status.setText("Copied: paste it at the end of the file.")

    def _add_hook(self) -> None:
        where = html.escape(_home(str(self.rc_path)))
        try:
            added = shell_rc.add_to_rc(self.rc_path, self.hook_line.text())
        except OSError as exc:
            self.hook_status.setText(f"Could not add it to <code>{where}</code>: {exc.strerror}")
            return
        self.hook_status.setText(
            f"Added to <code>{where}</code>: it works in terminals opened from now on."
            if added
            else f"Already in <code>{where}</code>: nothing changed."
        )
        self.add_button.setEnabled(False)

    def chosen(self) -> list[str]:
        return [src for cb, src in self.checks if cb.isChecked()]

    def _update_button(self) -> None:
        self.import_button.setEnabled(bool(self.chosen()))

    def _import(self) -> None:
        sources = self.chosen()
        if sources:
            self.importChosen.emit(sources)
        self.accept()


def _is_default_folder(data_dir: Path) -> bool:
    import platformdirs

    from selflow_qt.core.settings import APP_NAME

    return Path(data_dir).resolve() == Path(platformdirs.user_data_dir(APP_NAME)).resolve()


def start_welcome_import(
    state: Any, sources: list[str], on_patterns: Callable[[Any], None] | None = None
) -> None:
    """Import the chosen sources, then analyse them at once when there is enough to learn from;
    ``on_patterns(result)`` is told when that analysis found patterns (the app shows them)."""

    def analysed(result) -> None:
        state.analysisFinished.disconnect(analysed)
        if on_patterns is not None and getattr(result, "patterns", None):
            on_patterns(result)

    def done(report) -> None:
        state.importFinished.disconnect(done)
        if getattr(report, "total", 0) >= FIRST_ANALYSIS_EVENTS:
            state.analysisFinished.connect(analysed)
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
