"""One leaderboard: the tray, the Micro-Agents dock and `selflow agents` show the same order.

The inputs are those on which separate rankings come apart: an agent whose own record
(micro_agents) is longer than its bandit arm's (the arms were reset), untried agents told apart
only by their held-out MRR, and baselines whose held-out scores order them otherwise than their
names. Each agent's folder holds its agent.json and its completed training session the same
metrics, as a real training leaves them.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from selflow_qt.agents.model.adapters import METADATA_FILE
from selflow_qt.cli import main as selflow
from selflow_qt.store.models import BanditArm, MicroAgent, TrainingSession
from selflow_qt.ui.docks.agents import AgentsDock
from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.resources import app_icon
from selflow_qt.ui.tray.icon import TrayController

# (model id, specialization, own record (successes, queries), bandit arm (successes, attempts),
#  held-out MRR)
AGENTS = (
    # 80/100 on its own record, 1/1 on a reset arm: the longer record ranks it first
    ("agent-p1-veteran", "veteran", (80, 100), (1, 1), 0.40),
    ("agent-p2-steady", "steady", (0, 0), (30, 40), 0.35),
    ("agent-p3-lucky", "lucky", (1, 1), (1, 1), 0.30),
    # untried: the better MRR first, whatever the names say
    ("agent-p4-dull", "dull", (0, 0), (0, 0), 0.20),
    ("agent-p5-sharp", "sharp", (0, 0), (0, 0), 0.60),
)
EXPECTED = [
    "agent-p1-veteran",
    "agent-p2-steady",
    "agent-p3-lucky",
    "agent-p5-sharp",
    "agent-p4-dull",
]
# the baselines' held-out MRR on the agents' positions, in the reverse of their names' order
BASELINE_MRR = {"most-recent": 0.55, "most-frequent": 0.5, "markov-2": 0.3, "markov-1": 0.15}


def _leaderboard(ctx) -> None:
    for model_id, spec, (wins, queries), (arm_wins, attempts), mrr in AGENTS:
        folder = ctx.data_dir / "agents" / model_id
        folder.mkdir(parents=True)
        metrics = {model_id: {"hit1": mrr / 2, "mrr": mrr}}
        metrics |= {b: {"hit1": m / 2, "mrr": m} for b, m in BASELINE_MRR.items()}
        (folder / METADATA_FILE).write_text(json.dumps({"metrics": metrics}), encoding="utf-8")
        MicroAgent.create(
            model_id=model_id, specialization=spec, model_path=str(folder),
            success_rate=wins / queries if queries else 0.0, total_queries=queries,
            avg_latency_ms=30.0,
        )  # fmt: skip
        BanditArm.create(
            arm_id=model_id, kind="agent", successes=arm_wins, attempts=attempts,
            total_latency_ms=30.0 * attempts,
        )  # fmt: skip
        TrainingSession.create(model_id=model_id, status="completed", metadata={"metrics": metrics})


def test_tray_dock_and_cli_rank_agents_alike(qtbot, shell_state, capsys):
    _leaderboard(shell_state.ctx)

    window = MainWindow(shell_state)
    qtbot.addWidget(window)
    tray = TrayController(shell_state, window, app_icon(), show_icon=False)
    with qtbot.waitSignal(tray.refreshed, timeout=15_000):
        tray.refresh()
    tray.timer.stop()
    rows = [a.text() for a in tray.menu.menus["agents"].actions() if a.isVisible() and a.text()]
    by_spec = {spec: mid for mid, spec, *_ in AGENTS}
    tray_order = [by_spec[t.split(" — ")[0]] for t in rows if t.split(" — ")[0] in by_spec]

    dock = AgentsDock(shell_state)
    qtbot.addWidget(dock)
    dock.show()
    qtbot.waitUntil(lambda: len(dock.rows) >= len(AGENTS) + len(BASELINE_MRR), timeout=20_000)
    dock_ids = [
        dock.table.item(i, 1).data(Qt.ItemDataRole.UserRole) for i in range(dock.table.rowCount())
    ]

    assert selflow(["--data-dir", str(shell_state.data_dir), "agents", "--json"]) == 0
    cli_ids = [a["arm"] for a in json.loads(capsys.readouterr().out)["arms"]]

    assert tray_order == EXPECTED
    assert [i for i in dock_ids if i.startswith("agent-")] == EXPECTED
    assert [i for i in cli_ids if i.startswith("agent-")] == EXPECTED
    assert cli_ids == dock_ids  # the baselines too
