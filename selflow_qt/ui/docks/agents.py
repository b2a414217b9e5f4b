"""Micro-Agents dock: rankings in medal order with 95% intervals; train, retire and compare."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from selflow_qt.agents.serving import leaderboard
from selflow_qt.core.format import count, pct
from selflow_qt.core.ranking import medal_rows
from selflow_qt.core.wording import predictor_name
from selflow_qt.store.queries import training as dock_reads
from selflow_qt.ui.docks.base import BackgroundLoader, fill_table, make_table, set_medals
from selflow_qt.ui.docks.training_ranking import medal
from selflow_qt.ui.plots import IntervalBars, make_plot

COMPARE_METRICS: tuple[tuple[str, str, bool | None], ...] = (
    # label, AgentRow attribute, higher is better (None: not judged)
    ("Success rate", "success_rate", True),
    ("95% interval low", "ci_low", True),
    ("95% interval high", "ci_high", None),
    ("Mean latency (ms)", "mean_latency_ms", False),
    ("Queries", "queries", True),
    ("Offline hit@1", "hit1", True),
    ("Offline MRR", "mrr", True),
)


def agent_margins(rows: list[leaderboard.AgentRow]) -> dict[str, float | None]:
    """Each agent's offline hit@1 margin over the best baseline (agents.evaluation.evaluation's measure)."""
    from selflow_qt.agents.evaluation.evaluation import margin_over_best_baseline

    metrics = {r.arm_id: {"hit1": r.hit1} for r in rows if r.hit1 is not None}
    return {
        r.arm_id: margin_over_best_baseline(metrics, r.arm_id) for r in rows if r.kind == "agent"
    }


def name(r: leaderboard.AgentRow) -> str:
    """The predictor as the tables, plots and summary show it (never an id)."""
    return predictor_name(r.arm_id, r.specialization, r.kind)


def _fmt(attr: str, value: Any) -> str:
    if value is None:
        return "—"
    if attr in ("success_rate", "ci_low", "ci_high", "hit1"):
        return pct(value)
    if attr == "mrr":
        return f"{value:.3f}"
    if attr == "mean_latency_ms":
        return f"{value:.0f}"
    return f"{value:,}"


def compare_rows(
    a: leaderboard.AgentRow, b: leaderboard.AgentRow
) -> list[tuple[str, str, str, int]]:
    """(metric, a, b, winner) rows; winner is 0 for a, 1 for b, -1 for a tie or unknown."""
    out = []
    for label, attr, higher in COMPARE_METRICS:
        va, vb = getattr(a, attr), getattr(b, attr)
        winner = -1
        if higher is not None and va is not None and vb is not None and va != vb:
            winner = 0 if (va > vb) == higher else 1
        out.append((label, _fmt(attr, va), _fmt(attr, vb), winner))
    return out


class AgentsDock(QWidget):
    """Every predictor ranked by observed success, with what the user can do about them."""

    def __init__(self, state: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.rows: list[leaderboard.AgentRow] = []
        self.bandit: leaderboard.BanditView | None = None
        self._loader = BackgroundLoader(
            self, self._apply, self._failed, getattr(state, "pool", None)
        )
        self._build()
        state.dataChanged.connect(self.refresh)
        state.trainingFinished.connect(lambda _o: self.refresh())
        if hasattr(state, "banditChanged"):  # the same signal refreshes the Training Center
            state.banditChanged.connect(self.refresh)
        self.refresh()

    def _build(self) -> None:
        self.table = make_table(
            ["", "Predictor", "Kind", "Success", "95% interval", "Latency",
             "Queries", "hit@1", "vs best baseline", "MRR", "Active"],
            stretch_last=False,
        )  # fmt: skip
        self.table.setWordWrap(False)  # every column fits its text; the table scrolls sideways
        self.table.setSelectionMode(self.table.SelectionMode.ExtendedSelection)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.empty = QLabel(
            "No micro-agents or scored predictions yet — they appear after training."
        )
        self.empty.setStyleSheet("color: #707070;")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train next queued")
        self.train_button.setToolTip(
            "Train the next queued session (Training Center lists the queue)"
        )
        self.train_button.clicked.connect(lambda: self.state.start_training(None))
        self.retire_button = QPushButton("Retire")
        self.retire_button.setToolTip(
            "Stop using the selected micro-agent (its adapter stays on disk)"
        )
        self.retire_button.clicked.connect(self._retire)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Select two rows to compare them side by side")
        self.compare_button.clicked.connect(self.compare_selected)
        for b in (self.train_button, self.retire_button, self.compare_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.ci_plot = make_plot(
            "Success rate with 95% interval (Beta posterior)", left="success rate", height=200
        )
        self.ci_plot.setYRange(0, 1, padding=0.02)
        self.ci_bars = IntervalBars(self.ci_plot)

        self.compare_box = QGroupBox("Compare")
        cl = QVBoxLayout(self.compare_box)
        self.compare_table = make_table(["Metric", "A", "B"])
        cl.addWidget(self.compare_table)
        self.compare_box.hide()

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.summary)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.empty)
        tl.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        lower = QWidget()
        ll = QHBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.ci_plot, 3)
        ll.addWidget(self.compare_box, 2)
        split.addWidget(lower)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(split)
        self.setMinimumSize(600, 420)
        self._update_buttons()

    @Slot()
    def refresh(self) -> None:
        self._loader.load(
            dock_reads.read_with, self.state.data_dir, _agents_data, self.state.settings
        )

    def _failed(self, message: str) -> None:
        self.summary.setText(f"Could not read the agents: {message}")

    def _apply(self, data: tuple) -> None:
        self.rows, self.bandit, have_bandit, queued = data
        # "Train next queued" only when something is queued and nothing trains
        self.train_button.setEnabled(queued > 0 and not self.state.training_running)
        margins = agent_margins(self.rows)
        fill_table(
            self.table,
            [
                [
                    medal(i),
                    name(r),
                    r.kind,
                    pct(r.success_rate) if r.queries else "—",
                    f"{pct(r.ci_low)}–{pct(r.ci_high)}" if r.queries else "—",
                    f"{r.mean_latency_ms:.0f} ms" if r.queries else "—",
                    r.queries,
                    _fmt("hit1", r.hit1),
                    "—" if margins.get(r.arm_id) is None else f"{100 * margins[r.arm_id]:+.0f} pts",
                    _fmt("mrr", r.mrr),
                    "yes" if r.active else "retired",
                ]  # fmt: skip
                for i, r in enumerate(self.rows)
            ],
            align_right={3, 5, 6, 7, 8, 9},
        )
        for i, r in enumerate(self.rows):  # the id stays with the row, for retire and compare
            self.table.item(i, 1).setData(Qt.ItemDataRole.UserRole, r.arm_id)
            self.table.item(i, 1).setToolTip(r.specialization)
        set_medals(
            self.table, ranked=sum(1 for r in self.rows if r.queries), medals=medal_rows(self.rows)
        )
        self.empty.setVisible(not self.rows)
        scored = [r for r in self.rows if r.queries > 0][:12]
        self.ci_bars.set(
            [name(r) for r in scored],
            [r.success_rate for r in scored],
            [r.ci_low for r in scored],
            [r.ci_high for r in scored],
        )
        n_agents = sum(1 for r in self.rows if r.kind == "agent" and r.active)
        total = sum(r.queries for r in self.rows)
        text = f"{count(n_agents, 'active micro-agent')} · {count(total, 'scored prediction')}"
        if not have_bandit:
            text += " · bandit not available yet"
        elif self.bandit and self.bandit.best:
            text += f" · best now: {name(self.bandit.best)}"
        self.summary.setText(text)
        self._update_buttons()

    def selected(self) -> list[leaderboard.AgentRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.rows[r] for r in rows if r < len(self.rows)]

    def _update_buttons(self) -> None:
        sel = self.selected()
        self.retire_button.setEnabled(len(sel) == 1 and sel[0].kind == "agent" and sel[0].active)
        self.compare_button.setEnabled(len(sel) == 2)

    def _retire(self) -> None:
        sel = self.selected()
        if len(sel) == 1 and sel[0].kind == "agent":
            self.state.retire_agent(sel[0].arm_id, name(sel[0]))

    def compare_selected(self) -> None:
        sel = self.selected()
        if len(sel) != 2:
            return
        a, b = sel
        rows = compare_rows(a, b)
        self.compare_table.setHorizontalHeaderLabels(["Metric", name(a), name(b)])
        fill_table(self.compare_table, [[m, va, vb] for m, va, vb, _ in rows], align_right={1, 2})
        for r, (*_, winner) in enumerate(rows):
            for c in (1, 2):
                font = self.compare_table.item(r, c).font()
                font.setBold(winner == c - 1)
                self.compare_table.item(r, c).setFont(font)
        self.compare_box.setTitle(f"Compare: {name(a)} vs {name(b)} (better in bold)")
        self.compare_box.show()


def _agents_data(
    db, settings
) -> tuple[list[leaderboard.AgentRow], leaderboard.BanditView, bool, int]:
    """The ranking, the bandit, and how many sessions wait in the training queue."""
    rows, bandit = leaderboard.agent_ranking(db, settings)
    queued = sum(1 for s in dock_reads.training_queue(db)[0] if s.status == "queued")
    return rows, bandit, True, queued
