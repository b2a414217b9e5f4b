"""Settings: data budget, watched roots, exclusions, the bandit, models, start at login."""

from __future__ import annotations

import copy
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.core.autostart import Autostart, launch_command
from selflow_qt.core.settings import Settings
from selflow_qt.core.settings_checks import check, list_problems
from selflow_qt.core.wording import BANDIT_POLICY_WORDS, TRAINING_POLICY_WORDS
from selflow_qt.ui.state import AppState

log = logging.getLogger(__name__)

POLICIES = tuple(BANDIT_POLICY_WORDS.items())
TRAINING_POLICY_LABELS = tuple(TRAINING_POLICY_WORDS.items())
MB = 1024 * 1024


class SettingsDialog(QDialog):
    """Edits a copy of the settings; OK saves them through AppState and applies start-at-login."""

    def __init__(
        self, state: AppState, parent: QWidget | None = None, autostart: Autostart | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings-dialog")
        self.setWindowTitle("SelFlow Settings")
        self.state = state
        self.autostart = autostart or Autostart()
        self.settings: Settings = copy.deepcopy(state.settings)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        self._build()
        self.load(self.settings)
        self.validate()

    def _build(self) -> None:
        self.budget = QSpinBox()
        self.budget.setObjectName("budget-mb")
        self.budget.setRange(1, 100_000)
        self.budget.setSuffix(" MB")
        self.budget.setToolTip("New data gathered before an analysis cycle may start.")

        self.roots = QListWidget()
        self.roots.setObjectName("watch-roots")
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_root)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_root)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch()
        roots_row = QHBoxLayout()
        roots_row.addWidget(self.roots, 1)
        roots_row.addLayout(buttons)
        roots_box = QWidget()
        roots_box.setLayout(roots_row)

        self.excludes = QPlainTextEdit()
        self.excludes.setObjectName("exclusions")
        self.excludes.setPlaceholderText(
            "one glob a line, e.g. **/Private/**  (defaults always apply)"
        )
        self.excludes.setMaximumHeight(90)
        self.excludes.textChanged.connect(self.validate)

        self.redactions = QPlainTextEdit()
        self.redactions.setObjectName("redactions")
        self.redactions.setPlaceholderText(
            "one regular expression a line, e.g. ticket-[0-9]+  (built-in secret rules always "
            "apply)"
        )
        self.redactions.setToolTip(
            "Text matching any of these is replaced by [REDACTED] before anything is written."
        )
        self.redactions.setMaximumHeight(90)
        self.redactions.textChanged.connect(self.validate)

        self.policy = QComboBox()
        self.policy.setObjectName("bandit-policy")
        for key, label in POLICIES:
            self.policy.addItem(label, key)
        self.training = QComboBox()
        self.training.setObjectName("training-policy")
        for key, label in TRAINING_POLICY_LABELS:
            self.training.addItem(label, key)
        self.exploration = QDoubleSpinBox()
        self.exploration.setObjectName("exploration-rate")
        self.exploration.setRange(0.0, 1.0)
        self.exploration.setSingleStep(0.05)
        self.exploration.setDecimals(2)
        self.max_models = QSpinBox()
        self.max_models.setObjectName("max-models")
        self.max_models.setRange(1, 100)
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setObjectName("training-idle-minutes")
        self.idle_minutes.setRange(0, 24 * 60)
        self.idle_minutes.setSuffix(" min")
        self.idle_minutes.setToolTip(
            "With 'when I am idle': how long keyboard and mouse must rest before a large "
            "training starts by itself."
        )
        self.base_model = QLineEdit()
        self.base_model.setObjectName("base-model")
        self.base_model.setPlaceholderText("empty: the bundled SmolLM2-135M")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.base_model, 1)
        model_row.addWidget(browse)
        model_box = QWidget()
        model_box.setLayout(model_row)
        self.start_at_login = QCheckBox("Start SelFlow when I log in")
        self.start_at_login.setObjectName("start-at-login")
        where = self.autostart.path
        self.start_at_login.setToolTip(
            f"Writes {where}" if where else "Writes the HKCU Run registry key"
        )

        form = QFormLayout()
        form.addRow("Data budget:", self.budget)
        form.addRow("Watched folders:", roots_box)
        form.addRow("Exclusions:", self.excludes)
        form.addRow("Redaction patterns:", self.redactions)
        form.addRow("Bandit policy:", self.policy)
        form.addRow("Exploration rate:", self.exploration)
        form.addRow("Max micro-agents:", self.max_models)
        form.addRow("Train agents:", self.training)
        form.addRow("Idle for at least:", self.idle_minutes)
        form.addRow("Base model:", model_box)
        form.addRow("", self.start_at_login)
        box = self.button_box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(box)
        self.resize(620, 680)

    # -- values ----------------------------------------------------------------------------------
    def load(self, s: Settings) -> None:
        self.budget.setValue(max(1, round(s.budget_bytes / MB)))
        self.roots.clear()
        self.roots.addItems(list(s.watch_roots))
        self.excludes.setPlainText("\n".join(s.exclude_globs))
        self.redactions.setPlainText("\n".join(s.redact_patterns))
        self.idle_minutes.setValue(round(s.training_idle_minutes))
        i = self.policy.findData(s.bandit_policy)
        self.policy.setCurrentIndex(max(0, i))
        self.exploration.setValue(float(s.exploration_rate))
        self.max_models.setValue(int(s.max_models))
        self.training.setCurrentIndex(max(0, self.training.findData(s.training_policy)))
        self.base_model.setText(s.base_model)
        try:
            enabled = self.autostart.is_enabled()
        except Exception:  # an odd platform must not block the dialog
            enabled = s.start_at_login
        self.start_at_login.setChecked(bool(enabled))

    def collect(self) -> Settings:
        s = copy.deepcopy(self.settings)
        s.budget_bytes = self.budget.value() * MB
        s.watch_roots = [self.roots.item(i).text() for i in range(self.roots.count())]
        s.exclude_globs = _lines(self.excludes)
        s.redact_patterns = _lines(self.redactions)
        s.training_idle_minutes = type(s.training_idle_minutes)(self.idle_minutes.value())
        s.bandit_policy = str(self.policy.currentData())
        s.exploration_rate = float(self.exploration.value())
        s.max_models = int(self.max_models.value())
        s.training_policy = str(self.training.currentData())
        s.base_model = self.base_model.text().strip()
        s.start_at_login = self.start_at_login.isChecked()
        return s

    def problems(self) -> list[str]:
        """What cannot be saved, one message each, worded by core.settings_checks (the checks
        settings.json is loaded with)."""
        s = self.collect()
        out = [f"Exclusions: {p}" for p in list_problems("exclude_globs", s.exclude_globs)]
        out += [
            f"Redaction patterns: {p}" for p in list_problems("redact_patterns", s.redact_patterns)
        ]
        for name in ("budget_bytes", "exploration_rate", "max_models", "training_idle_minutes"):
            if problem := check(name, getattr(s, name)):
                out.append(f"{name.replace('_', ' ').capitalize()} {problem}")
        return out

    def validate(self) -> bool:
        """Check the values as they are edited: a message names each bad one and OK stays off
        until it is fixed (the settings in use are kept meanwhile)."""
        problems = self.problems()
        self.error.setText("" if not problems else "Not saved until fixed:\n" + "\n".join(problems))
        self.button_box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)
        return not problems

    def accept(self) -> None:
        if not self.validate():
            return
        s = self.collect()
        try:
            self.autostart.apply(s.start_at_login, launch_command(self.state.data_dir))
        except Exception as exc:
            self.error.setText(f"Could not change start at login: {exc}")
            return
        self.state.save_settings(s)
        super().accept()

    # -- buttons ---------------------------------------------------------------------------------
    def _add_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Watch a folder")
        if folder and not self.roots.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.roots.addItem(folder)

    def _remove_root(self) -> None:
        for item in self.roots.selectedItems():
            self.roots.takeItem(self.roots.row(item))

    def _browse_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A model folder (Hugging Face layout)")
        if folder:
            self.base_model.setText(folder)


def _lines(edit: QPlainTextEdit) -> list[str]:
    return [line.strip() for line in edit.toPlainText().splitlines() if line.strip()]
