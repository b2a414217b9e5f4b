"""One leaderboard: the tray, the Micro-Agents dock and `selflow agents` show the same order."""

from __future__ import annotations

import json

from selflow_qt.cli import main as selflow
from selflow_qt.store.models import BanditArm, MicroAgent
from selflow_qt.ui.docks.agents import AgentsDock
from selflow_qt.ui.main_window import MainWindow
from selflow_qt.ui.resources import app_icon
from selflow_qt.ui.tray.icon import TrayController

# (model id, specialization, successes, queries): a lucky 1/1 must not outrank a steady 80/100.
AGENTS = (
    ("agent-p1-lucky", "lucky", 1, 1),
    ("agent-p2-steady", "steady", 80, 100),
    ("agent-p3-middling", "middling", 30, 60),
    ("agent-p4-untried", "untried", 0, 0),
)


def _leaderboard(ctx) -> None:
    for model_id, spec, wins, queries in AGENTS:
        MicroAgent.create(
            model_id=model_id, specialization=spec, model_path=f"/nonexistent/{model_id}",
            success_rate=wins / queries if queries else 0.0, total_queries=queries,
            avg_latency_ms=30.0,
        )  # fmt: skip
        BanditArm.create(
            arm_id=model_id, kind="agent", successes=wins, attempts=queries,
            total_latency_ms=30.0 * queries,
        )  # fmt: skip


def test_tray_dock_and_cli_rank_agents_alike(qtbot, shell_state, capsys):
    _leaderboard(shell_state.ctx)
    expected = ["agent-p2-steady", "agent-p1-lucky", "agent-p3-middling", "agent-p4-untried"]

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
    qtbot.waitUntil(lambda: len(dock.rows) >= len(AGENTS), timeout=20_000)
    dock_ids = [dock.table.item(i, 1).text() for i in range(dock.table.rowCount())]
    dock_order = [i for i in dock_ids if i.startswith("agent-")]

    assert selflow(["--data-dir", str(shell_state.data_dir), "agents", "--json"]) == 0
    arms = json.loads(capsys.readouterr().out)["arms"]
    cli_order = [a["arm"] for a in arms if a["kind"] == "agent"]

    assert tray_order == expected
    assert dock_order == expected
    assert cli_order == expected
