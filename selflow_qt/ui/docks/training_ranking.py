"""The Training Center's "Model performance" box: every predictor ranked, the bandit, and what
the language model added to each recently trained agent."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from selflow_qt.agents.serving import leaderboard
from selflow_qt.core.format import count, pct
from selflow_qt.core.ranking import medal_rows
from selflow_qt.core.wording import bandit_policy_words, predictor_name
from selflow_qt.ui.docks.base import fill_table, make_table, set_medals


def medal(rank: int) -> str:
    """The rank as shown in the first column (medal icons come from ``set_medals``)."""
    return str(rank + 1)


class ModelPerformanceBox(QGroupBox):
    """Rankings (success rate, interval, latency), the bandit's split, the model's share."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model performance", parent)
        lay = QVBoxLayout(self)
        self.ranking_table = make_table(
            ["", "Predictor", "Kind", "Success", "95% interval", "Latency", "Queries"]
        )
        self.ranking_table.setMinimumHeight(120)
        self.ranking_empty = QLabel("No predictions scored yet.")
        self.ranking_empty.setStyleSheet("color: #707070;")
        self.bandit_label = QLabel("")
        self.bandit_label.setWordWrap(True)
        self.bandit_label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.ranking_table, 1)
        lay.addWidget(self.ranking_empty)
        lay.addWidget(QLabel("<b>Bandit</b>"))
        lay.addWidget(self.bandit_label)
        self.model_title = QLabel("<b>Language model</b>")
        self.model_label = QLabel("")
        self.model_label.setWordWrap(True)
        lay.addWidget(self.model_title)
        lay.addWidget(self.model_label)

    def show_data(self, data: leaderboard.TrainingCenterData) -> None:
        rows = [
            [
                medal(i),
                predictor_name(r.arm_id, r.specialization, r.kind),
                r.kind,
                pct(r.success_rate) if r.queries else "—",
                f"{pct(r.ci_low)}–{pct(r.ci_high)}" if r.queries else "—",
                f"{r.mean_latency_ms:.0f} ms" if r.queries else "—",
                r.queries,
            ]
            for i, r in enumerate(data.ranking)
        ]
        fill_table(self.ranking_table, rows, align_right={3, 5, 6})
        set_medals(
            self.ranking_table,
            ranked=sum(1 for r in data.ranking if r.queries),
            medals=medal_rows(data.ranking),
        )
        self.ranking_empty.setVisible(not rows)
        b = data.bandit
        if b.exploitation is None:
            explore = f"{count(b.suggestions, 'suggestion')} logged, none scored yet"
        else:
            explore = (
                f"of {count(b.suggestions, 'suggestion')}, {pct(b.exploitation)} came from the current best"
                f" (exploitation), {pct(1 - b.exploitation)} from other predictors (exploration)"
            )
        policy = bandit_policy_words(b.policy, b.epsilon)
        best = (
            "current best: none scored yet"
            if b.best is None
            else f"current best: <b>{html.escape(predictor_name(b.best.arm_id, b.best.specialization, b.best.kind))}</b>"
            f" — success {pct(b.best.success_rate)}, mean latency {b.best.mean_latency_ms:.0f} ms"
            f" over {count(b.best.queries, 'suggestion')}"
        )
        self.bandit_label.setText(f"Policy {policy} · {explore}<br>{best}")
        models = leaderboard.model_lines(data.recent)
        self.model_label.setText("\n".join(models))
        self.model_title.setVisible(bool(models))
        self.model_label.setVisible(bool(models))
