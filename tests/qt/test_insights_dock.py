"""Data Insights dock on a real demo store: trends, suggestions and learning progress."""

from __future__ import annotations

import shutil
from pathlib import Path

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_insights_show_trends_and_suggestions_from_the_demo_week(qtbot, docks_state, artifacts_dir):
    from selflow_qt.analyze import insights
    from selflow_qt.ui.insights_dock import InsightsDock

    dock = InsightsDock(docks_state)
    qtbot.addWidget(dock)
    dock.resize(1200, 800)
    dock.show()
    qtbot.waitUntil(lambda: dock.report is not None, timeout=60_000)
    expected = insights.build_insights(docks_state.read_db(), now=dock.report.computed_at)
    assert dock.trends_table.rowCount() == min(40, len(expected.trends)) > 0
    first = expected.trends[0]
    assert dock.trends_table.item(0, 2).text() == first.key
    assert dock.trends_table.item(0, 4).text() == str(first.this_week)
    assert dock.tips_list.count() == max(1, len(expected.tips))
    if expected.tips:
        assert dock.tips_list.item(0).text().endswith(expected.tips[0].text)
    assert len(dock.report.progress) == len(expected.progress)
    dock.grab().save(str(artifacts_dir / "insights.png"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(artifacts_dir / "insights.png", SHOTS / "insights.png")
