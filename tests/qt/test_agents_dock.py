"""Micro-Agents dock on a real store: medal order, 95% intervals, retire and compare."""

from __future__ import annotations

import pytest
from doc_screenshots import update_doc_screenshot
from PySide6.QtCore import Qt

from selflow_qt.store.models import MicroAgent
from selflow_qt.ui.docks.agents import name


@pytest.fixture
def agents(qtbot, docks_state):
    # Three trained agents with known observed records (what serving would have written).
    for model_id, spec, rate, queries, lat in (
        ("agent-p1-coding", "coding", 0.62, 120, 35.0),
        ("agent-p2-writing", "writing", 0.81, 80, 41.0),
        ("agent-p3-downloads", "downloads", 0.40, 10, 28.0),
    ):
        MicroAgent.create(
            model_id=model_id, specialization=spec, success_rate=rate, total_queries=queries,
            avg_latency_ms=lat, model_path=f"/tmp/{model_id}",
        )  # fmt: skip
    from selflow_qt.ui.docks.agents import AgentsDock

    dock = AgentsDock(docks_state)
    qtbot.addWidget(dock)
    dock.resize(1000, 700)
    dock.show()
    qtbot.waitUntil(lambda: len(dock.rows) >= 3, timeout=20_000)
    return dock


def _row(dock, model_id):
    return next(r for r in dock.rows if r.arm_id == model_id)


def test_rankings_in_medal_order_with_beta_intervals(agents, artifacts_dir):
    ids = [
        agents.table.item(i, 1).data(Qt.ItemDataRole.UserRole)
        for i in range(agents.table.rowCount())
    ]
    assert (
        ids.index("agent-p2-writing")
        < ids.index("agent-p1-coding")
        < ids.index("agent-p3-downloads")
    )
    gold = agents.table.item(ids.index("agent-p2-writing"), 0)
    assert gold.text() == "1" and not gold.icon().isNull()
    small, big = _row(agents, "agent-p3-downloads"), _row(agents, "agent-p1-coding")
    assert small.ci_low < small.success_rate < small.ci_high
    assert (small.ci_high - small.ci_low) > (big.ci_high - big.ci_low)  # fewer queries: wider
    scored = [r for r in agents.rows if r.queries > 0][:12]
    assert agents.ci_bars.labels == [name(r) for r in scored]
    agents.grab().save(str(artifacts_dir / "agents.png"))


def test_compare_two_agents_side_by_side(qtbot, agents, artifacts_dir):
    from PySide6.QtCore import QItemSelectionModel

    ids = [
        agents.table.item(i, 1).data(Qt.ItemDataRole.UserRole)
        for i in range(agents.table.rowCount())
    ]
    sm = agents.table.selectionModel()
    for mid in ("agent-p1-coding", "agent-p2-writing"):
        sm.select(
            agents.table.model().index(ids.index(mid), 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    assert agents.compare_button.isEnabled()
    agents.compare_button.click()
    t = agents.compare_table
    assert agents.compare_box.isVisible()
    success = [t.item(0, c).text() for c in range(3)]
    a, b = (t.horizontalHeaderItem(1).text(), t.horizontalHeaderItem(2).text())
    expected = {"agent for coding": "62%", "agent for writing": "81%"}  # named, not by id
    assert success == ["Success rate", expected[a], expected[b]]
    winner_col = 1 if a == "agent for writing" else 2
    assert t.item(0, winner_col).font().bold() and not t.item(0, 3 - winner_col).font().bold()
    agents.grab().save(str(artifacts_dir / "agents_compare.png"))


def test_retire_marks_the_agent_inactive_in_the_store(qtbot, agents):
    ids = [
        agents.table.item(i, 1).data(Qt.ItemDataRole.UserRole)
        for i in range(agents.table.rowCount())
    ]
    agents.table.selectRow(ids.index("agent-p3-downloads"))
    assert agents.retire_button.isEnabled()
    said: list[str] = []
    agents.state.message.connect(said.append)
    agents.retire_button.click()
    qtbot.waitUntil(lambda: not _row(agents, "agent-p3-downloads").active, timeout=10_000)
    assert "Retired agent for downloads." in said  # by its name, not its id
    assert not MicroAgent.get(MicroAgent.model_id == "agent-p3-downloads").is_active


def test_rankings_follow_real_suggestions_scored_on_a_replayed_day(
    qtbot, docks_state, replay, artifacts_dir
):
    """The real SuggestionService suggests while a further demo day is written; the dock's
    rankings are the bandit's records of those outcomes."""
    from selflow_qt.agents.serving.bandit import Bandit
    from selflow_qt.ui.docks.agents import AgentsDock

    scored_total = replay(docks_state)
    db = docks_state.read_db()
    dock = AgentsDock(docks_state)
    qtbot.addWidget(dock)
    dock.resize(1000, 700)
    dock.show()
    qtbot.waitUntil(lambda: any(r.queries for r in dock.rows), timeout=20_000)
    stats = {s.arm_id: s for s in Bandit.load(db).stats()}
    scored = [r for r in dock.rows if r.queries]
    assert sum(r.queries for r in scored) == scored_total > 50
    for r in scored:
        s = stats[r.arm_id]
        assert (r.queries, r.successes) == (s.attempts, s.successes)
        assert (r.ci_low, r.ci_high) == pytest.approx((s.ci_low, s.ci_high))
    means = [(r.successes + 1) / (r.queries + 2) for r in scored]
    assert means == sorted(means, reverse=True)  # medal order: posterior mean
    assert dock.table.item(0, 1).data(Qt.ItemDataRole.UserRole) == scored[0].arm_id
    dock.grab().save(str(artifacts_dir / "agents.png"))
    update_doc_screenshot(artifacts_dir / "agents.png", "agents.png")


def test_a_predictor_never_right_wears_no_medal(qtbot, docks_state):
    """Issue 24: four baselines at 0% still got medals."""
    from selflow_qt.store.models import BanditArm
    from selflow_qt.ui.docks.agents import AgentsDock

    for arm in ("markov-1", "markov-2", "most-frequent", "most-recent"):
        BanditArm.create(arm_id=arm, kind="baseline", successes=0, attempts=12)
    dock = AgentsDock(docks_state)
    qtbot.addWidget(dock)
    dock.show()
    qtbot.waitUntil(lambda: any(r.queries for r in dock.rows), timeout=20_000)
    for i, r in enumerate(dock.rows):
        assert r.successes == 0
        assert dock.table.item(i, 0).icon().isNull()
