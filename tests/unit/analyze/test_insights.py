"""Data Insights read a real store: trends, suggestions and agents' performance from events."""

from __future__ import annotations

import math

import pytest

from selflow_qt.analyze import insights
from selflow_qt.core.event import Event
from selflow_qt.store.writer import insert_events

NOW = 1_800_000_000.0
DAY = 86_400.0
HOME = "/home/ada"


def _write(store, events):
    with store.db.atomic():
        insert_events(store.db, events)


def test_binomial_p_value_matches_known_values():
    assert insights.binomial_two_sided_p(5, 10) == pytest.approx(1.0)
    # P(X <= 1 or X >= 9 | n=10, p=1/2) = 22/1024
    assert insights.binomial_two_sided_p(9, 10) == pytest.approx(22 / 1024)
    assert insights.binomial_two_sided_p(0, 0) == 1.0


def test_command_key_keeps_subcommands_of_multi_command_tools():
    assert insights.command_key("pytest -q tests") == "pytest"
    assert insights.command_key("git commit -m x") == "git commit"
    assert insights.command_key("sudo /usr/bin/apt update") == "apt"
    assert insights.command_key("python -m pytest") == "python -m pytest"


def test_trends_flag_a_rising_app_and_leave_a_steady_one(store):
    evs = []
    for i in range(40):  # code: 10 last week, 30 this week -> rising
        ts = NOW - (2 * 7 * DAY - 3600 * i) if i < 10 else NOW - 3600 * (i - 9)
        evs.append(Event(ts=ts, source="app", action="focus", app="code"))
    for i in range(20):  # firefox: 10 and 10 -> steady
        ts = NOW - 8 * DAY - 3600 * i if i < 10 else NOW - 3600 * i
        evs.append(Event(ts=ts, source="app", action="focus", app="firefox"))
    evs.append(Event(ts=NOW - 30 * DAY, source="app", action="focus", app="code"))  # too old
    _write(store, evs)
    trends = {t.key: t for t in insights.detect_trends(store.db, now=NOW, include_patterns=False)}
    code, fox = trends["code"], trends["firefox"]
    assert (code.this_week, code.last_week, code.direction) == (30, 10, "rising")
    assert code.p_value < 0.05 and code.change == pytest.approx(2.0)
    assert (fox.this_week, fox.last_week, fox.direction) == (10, 10, "steady")
    assert fox.p_value == pytest.approx(1.0)


def test_day_one_trends_say_new_not_rising(store):
    """Six hours of activity and nothing before: no key 'rises' against an empty week."""
    evs = [Event(ts=NOW - 60 * i, source="app", action="focus", app="code") for i in range(300)]
    evs += [Event(ts=NOW - 70 * i, source="shell", action="command", cmd="make") for i in range(50)]
    _write(store, evs)
    trends = insights.detect_trends(store.db, now=NOW, include_patterns=False)
    assert {t.key for t in trends} >= {"code", "make"}
    assert {t.direction for t in trends} == {"new"}
    assert all(t.p_value == 1.0 and t.last_week == 0 for t in trends)


def test_a_partly_recorded_week_before_is_compared_per_day(store):
    """Recording began 10 days ago: the week before has 3 recorded days, this week 7. The same
    10 events a day is steady, not 'rising' from 30 to 70."""
    start = NOW - 10 * DAY
    evs = [
        Event(ts=start + i * DAY / 10, source="app", action="focus", app="code") for i in range(100)
    ]
    _write(store, evs)
    code = {t.key: t for t in insights.detect_trends(store.db, now=NOW, include_patterns=False)}[
        "code"
    ]
    assert (code.last_week, code.this_week) == (30, 70)
    assert code.last_days == pytest.approx(3.0) and code.this_days == pytest.approx(7.0)
    assert code.direction == "steady" and code.p_value > 0.5
    assert code.change == pytest.approx(0.0)


def test_trends_skip_rare_keys(store):
    _write(store, [Event(ts=NOW - 60, source="shell", action="command", cmd="ls")] * 3)
    assert insights.detect_trends(store.db, now=NOW, include_patterns=False) == []


def _edit_then_maybe_test(t0: float, run_tests: bool) -> list[Event]:
    evs = [
        Event(ts=t0, source="fs", action="modify", path=f"{HOME}/src/app/main.py"),
        Event(ts=t0 + 60, source="fs", action="modify", path=f"{HOME}/src/app/util.py"),
    ]
    if run_tests:
        evs.append(
            Event(
                ts=t0 + 120,
                source="shell",
                action="command",
                cmd="pytest -q",
                cwd=f"{HOME}/src/app",
            )
        )
    else:
        evs.append(
            Event(
                ts=t0 + 120,
                source="shell",
                action="command",
                cmd="git status",
                cwd=f"{HOME}/src/app",
            )
        )
    return evs


def test_suggests_the_command_that_follows_most_edit_sessions(store):
    evs = []
    for i in range(10):  # 8 of 10 edit sessions end with pytest
        evs += _edit_then_maybe_test(NOW - DAY * 5 + i * 7200, run_tests=i < 8)
    _write(store, evs)
    tips = insights.optimization_suggestions(store.db, now=NOW, home=HOME)
    tip = next(t for t in tips if t.kind == "command-after-edits")
    assert tip.evidence == {
        "command": "pytest",
        "folder": "~/src/app",
        "sessions": 10,
        "followed": 8,
    }
    assert tip.text.startswith("You run `pytest` after 80% of edit sessions in ~/src/app")


def test_suggests_a_growing_downloads_folder(store):
    evs = [
        Event(
            ts=NOW - 7 * DAY + i * 3600,
            source="fs",
            action="create",
            path=f"{HOME}/Downloads/f{i}.pdf",
        )
        for i in range(7 * 24)
    ]
    evs += [
        Event(ts=NOW - DAY + i, source="fs", action="delete", path=f"{HOME}/Downloads/f{i}.pdf")
        for i in range(14)
    ]
    _write(store, evs)
    tips = insights.optimization_suggestions(store.db, now=NOW, home=HOME)
    tip = next(t for t in tips if t.kind == "folder-growth")
    assert tip.evidence == {"folder": "~/Downloads", "added": 168, "removed": 14}
    assert "~/Downloads accumulates 22 files/day" in tip.text


def test_no_suggestions_without_data(store):
    assert insights.optimization_suggestions(store.db, now=NOW) == []


def test_agent_performance_per_day(store):
    from selflow_qt.store.models import UserInteraction

    for i, ok in enumerate([True, True, False, True]):
        UserInteraction.create(
            interaction_type="suggestion",
            timestamp=NOW - 2 * DAY + (DAY if i >= 2 else 0) + i,
            model_id="agent-p1",
            success=ok,
        )
    UserInteraction.create(
        interaction_type="suggestion", timestamp=NOW - 10, model_id="x", success=None
    )
    perf = insights.agent_performance_over_time(store.db, now=NOW, days=3)
    assert list(perf) == ["agent-p1"]
    days = perf["agent-p1"]
    assert [(d.attempts, d.successes) for d in days] == [(2, 2), (2, 1)]
    assert days[1].success_rate == 0.5


def test_build_insights_reports_counts(store):
    _write(store, [Event(ts=NOW - 60, source="app", action="focus", app="code")])
    report = insights.build_insights(store.db, now=NOW)
    assert report.n_events == 1 and report.tips == [] and isinstance(report.progress, list)
    assert math.isfinite(report.computed_at)
