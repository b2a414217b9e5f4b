"""Data Insights dock on two analysed demo weeks with real scored suggestions."""

from __future__ import annotations

from doc_screenshots import update_doc_screenshot


def test_empty_progress_says_what_to_do(qtbot, docks_state):
    from selflow_qt.ui.docks.base import NO_ANALYSIS
    from selflow_qt.ui.docks.insights import InsightsDock

    dock = InsightsDock(docks_state)
    qtbot.addWidget(dock)
    dock.show()
    qtbot.waitUntil(lambda: dock.report is not None, timeout=60_000)
    assert dock.report.progress == []
    assert dock.progress_label.text().startswith(NO_ANALYSIS)
    assert not dock.progress_plot.isVisible()
    assert dock.trends_table.rowCount() > 0  # trends need no analysis


def test_insights_show_progress_trends_and_suggestions(qtbot, analysed_copy, replay, artifacts_dir):
    from selflow_qt.analyze import insights
    from selflow_qt.store.queries.analysis import runs_history
    from selflow_qt.ui.docks.insights import InsightsDock
    from selflow_qt.ui.state import AppState

    state = AppState(analysed_copy, start_services=False)
    try:
        replay(state, n_events=240)
        dock = InsightsDock(state)
        qtbot.addWidget(dock)
        dock.resize(1200, 1100)
        dock.show()
        qtbot.waitUntil(lambda: dock.report is not None, timeout=60_000)
        db = state.read_db()
        runs = runs_history(db)
        assert len(runs) == 2
        xs, ys = dock.patterns_curve.getData()
        assert list(xs) == [1, 2]  # run numbers
        assert list(ys) == [r["n_patterns"] for r in runs]
        assert list(dock.score_curve.getData()[1]) == [r["consensus_score"] for r in runs]
        drawn = {c.name() for c in dock.agents_plot.getPlotItem().listDataItems()}
        assert drawn and drawn <= set(dock.report.agents)
        expected = insights.build_insights(db, now=dock.report.computed_at)
        assert [t.key for t in dock.report.trends] == [t.key for t in expected.trends]
        assert dock.trends_table.rowCount() == min(40, len(expected.trends)) > 0
        assert dock.trends_table.item(0, 2).text() == expected.trends[0].key
        assert any(t.kind == "pattern" for t in expected.trends)
        assert dock.tips_list.count() == max(1, len(expected.tips))
        assert dock.tips_list.item(0).text().endswith(expected.tips[0].text)
        qtbot.wait(100)
        dock.grab().save(str(artifacts_dir / "insights.png"))
        update_doc_screenshot(artifacts_dir / "insights.png", "insights.png")
    finally:
        state.shutdown(10_000)
        state.ctx.close()


def test_a_first_day_run_from_few_units_shows_no_consensus_score(qtbot, docks_state, artifacts_dir):
    """A cycle that one method grouped has no consensus: the label says so and the score curve
    has no point for it, instead of a 1.00."""
    from selflow_qt.store.models import AnalysisRun
    from selflow_qt.ui.docks.insights import InsightsDock

    AnalysisRun.create(
        status="completed",
        consensus_score=1.0,
        n_events=80,
        metrics={"algorithms": {"similarity": {"clusters": 1}}, "reduction": "few units"},
    )
    dock = InsightsDock(docks_state)
    qtbot.addWidget(dock)
    dock.resize(1000, 900)
    dock.show()
    qtbot.waitUntil(lambda: dock.report is not None, timeout=60_000)
    assert "consensus score" not in dock.progress_label.text()
    assert "one grouping by similarity" in dock.progress_label.text()
    assert dock.progress_label.text().startswith("1 analysis run since")
    assert len(dock.score_curve.getData()[1] or []) == 0
    assert list(dock.patterns_curve.getData()[0]) == [1]
    qtbot.wait(100)
    dock.grab().save(str(artifacts_dir / "insights-few-units.png"))
