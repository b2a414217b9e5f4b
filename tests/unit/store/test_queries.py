"""Dashboard and tray read models: the local day, hours, file operations, focus time, rankings."""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from selflow_qt.agents.serving.leaderboard import active_agent_lines, agent_ranking
from selflow_qt.core.event import Event
from selflow_qt.core.ranking import MEDALS
from selflow_qt.store.models import MicroAgent, Notification, Pattern, TrainingSession
from selflow_qt.store.queries import tray as q
from selflow_qt.store.writer import insert_events

# A fixed "now": 2026-03-10 15:30 in a UTC+02:00 zone.
TZ = 120
DAY0 = calendar.timegm(datetime(2026, 3, 10, tzinfo=timezone.utc).timetuple()) - TZ * 60
NOW = DAY0 + 15.5 * 3600


def ev(hours: float, source: str = "fs", action: str = "create", tz: int = TZ, **kw) -> Event:
    """An event ``hours`` after local midnight of the test day."""
    return Event(ts=DAY0 + hours * 3600, source=source, action=action, tz_offset=tz, **kw)


def put(store, events: list[Event]) -> None:
    with store.db.atomic():
        insert_events(store.db, events)


def test_local_day_starts_at_local_midnight():
    day = q.local_day(NOW, TZ)
    assert day.date == "2026-03-10"
    assert day.start - TZ * 60 == DAY0
    # just before local midnight is still the previous day
    assert q.local_day(DAY0 - 1, TZ).date == "2026-03-09"


def test_events_today_counts_only_the_local_day(store):
    put(
        store,
        [
            ev(-0.5),  # 23:30 yesterday (local)
            ev(0.1),
            ev(9.0, "app", "focus", app="code"),
            ev(23.9),
            ev(24.2),  # tomorrow
        ],
    )
    day = q.local_day(NOW, TZ)
    assert q.events_today(store.db, day) == 3


def test_an_event_with_its_own_offset_uses_its_own_local_clock(store):
    # 22:30 UTC on the 10th is the 11th in UTC+2 but still the 10th in UTC-1.
    ts = calendar.timegm(datetime(2026, 3, 10, 22, 30, tzinfo=timezone.utc).timetuple())
    put(store, [Event(ts=ts, source="fs", action="create", tz_offset=-60)])
    assert q.events_today(store.db, q.local_day(NOW, TZ)) == 1


def test_events_per_hour_by_source(store):
    put(
        store,
        [ev(9.1), ev(9.9), ev(10.0, "shell", "command", cmd="ls"), ev(23.99, "app", "launch")],
    )
    by_hour = q.events_today_by_hour(store.db, q.local_day(NOW, TZ))
    assert by_hour["fs"][9] == 2 and sum(by_hour["fs"]) == 2
    assert by_hour["shell"][10] == 1
    assert by_hour["app"][23] == 1
    assert list(by_hour) == sorted(by_hour)


def test_file_operations_today_by_action(store):
    put(
        store,
        [ev(1, action="create"), ev(2, action="modify"), ev(3, action="modify"), ev(-2)]
        + [ev(4, "shell", "command", cmd="x")],
    )
    ops = q.file_ops_today(store.db, q.local_day(NOW, TZ))
    assert ops == {"modify": 2, "create": 1}


def test_focus_time_sums_spans_and_removes_away_time(store):
    put(
        store,
        [
            ev(9.0, "app", "focus", app="code", duration=1800),  # 09:00-09:30
            ev(9.8, "app", "focus", app="firefox"),  # no duration: until the next focus (10:00)
            ev(10.0, "app", "focus", app="code", duration=600),  # 10:00-10:10
            ev(9.25, "system", "afk", duration=300),  # away 09:15-09:20
            ev(14.0, "app", "focus", app="term"),  # last one: capped at 15 min
        ],
    )
    secs = q.focus_time_today(store.db, q.local_day(NOW, TZ), now=NOW)
    assert secs == pytest.approx(1800 + 720 + 600 - 300 + q.FOCUS_GAP_CAP_S)


def test_a_focus_span_without_duration_is_capped(store):
    put(store, [ev(9.0, "app", "focus", app="a"), ev(11.0, "app", "focus", app="b", duration=60)])
    secs = q.focus_time_today(store.db, q.local_day(NOW, TZ), now=NOW)
    assert secs == pytest.approx(q.FOCUS_GAP_CAP_S + 60)


def test_focus_time_is_zero_without_focus_events(store):
    put(store, [ev(9.0)])
    assert q.focus_time_today(store.db, q.local_day(NOW, TZ), now=NOW) == 0.0


def test_agents_ranking_best_first_with_medals(store):
    for i, rate in enumerate([0.4, 0.9, 0.7, 0.2]):
        MicroAgent.create(
            model_id=f"a{i}", specialization=f"s{i}", success_rate=rate, total_queries=10
        )
    MicroAgent.create(model_id="old", success_rate=1.0, total_queries=10, is_active=False)
    ranking = active_agent_lines(agent_ranking(store.db, store.settings)[0])
    assert [a.model_id for a in ranking] == ["a1", "a2", "a0", "a3"]
    assert [a.medal for a in ranking] == [*MEDALS, ""]


def test_training_counts_and_notifications(store):
    for status in ("queued", "queued", "training", "failed"):
        TrainingSession.create(model_id="m", status=status)
    assert q.training_counts(store.db) == {"queued": 2, "training": 1, "failed": 1}
    a = Notification.create(kind="pattern", title="New pattern", body="coding")
    Notification.create(kind="training", title="Training finished", body="m")
    n, latest = q.unread_notifications(store.db)
    assert n == 2 and latest[0]["title"] == "Training finished"
    q.mark_notifications_read(store.db, [a.id])
    assert q.unread_notifications(store.db)[0] == 1
    q.mark_notifications_read(store.db)
    assert q.unread_notifications(store.db)[0] == 0


def test_hot_patterns_without_analysis_fall_back_to_recent_patterns(store):
    Pattern.create(name="coding", confidence=0.8, event_count=50, last_seen=NOW)
    Pattern.create(name="writing", confidence=0.6, event_count=90, last_seen=NOW)
    hot = q.hot_patterns(store.db, day=q.local_day(NOW, TZ))
    assert [p.name for p in hot] == ["writing", "coding"]
    assert q.workflow_efficiency(store.db, q.local_day(NOW, TZ)) is None


def test_tray_snapshot_agrees_with_the_single_queries(store, monkeypatch):
    put(store, [ev(1), ev(2, action="delete"), ev(9, "app", "focus", app="x", duration=60)])
    # a clock that moves 0.25 s between readings: the snapshot's own timing is its reads' time
    ticks = iter([100.0, 100.25])
    monkeypatch.setattr(q, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    snap = q.tray_snapshot(store.db, budget_bytes=1000, now=NOW)
    # the snapshot uses the machine's offset, so compare with the same day
    day = q.local_day(NOW)
    assert snap.events_today == q.events_today(store.db, day)
    assert snap.file_ops_today == sum(q.file_ops_today(store.db, day).values())
    assert snap.budget_bytes == 1000 and snap.buffer_bytes > 0
    assert snap.took_ms == pytest.approx(250.0)


def test_format_duration():
    from selflow_qt.core.format import clock_duration

    assert clock_duration(59) == "1m"
    assert clock_duration(3 * 3600 + 5 * 60) == "3h 05m"


def _analysed(store, labels: list[int], hours: list[float] | None = None) -> int:
    """Today's events assigned to consensus ``labels`` by one completed run; two named patterns."""
    from selflow_qt.store.models import AnalysisRun, ClusterAssignment

    hours = hours or [9 + i * 0.01 for i in range(len(labels))]  # 36 s apart
    put(store, [ev(h) for h in hours])
    ids = [r[0] for r in store.db.execute_sql("SELECT id FROM events ORDER BY id")]
    run = AnalysisRun.create(
        status="completed",
        consensus_score=0.8,
        metrics={"algorithms": {"hdbscan": {"clusters": 7}}},
    )
    for eid, label in zip(ids, labels, strict=True):
        ClusterAssignment.create(run=run.id, event_id=eid, consensus=label)
    Pattern.create(
        name="coding",
        confidence=0.9,
        event_count=3,
        metadata={"last_run_id": run.id, "cluster_label": 0},
    )
    Pattern.create(
        name="writing",
        confidence=0.7,
        event_count=9,
        metadata={"last_run_id": run.id, "cluster_label": 1},
    )
    return run.id


def test_todays_workflows_count_analysed_actions_per_pattern(store):
    _analysed(store, [0, 0, 0, 1, -1])
    wf = q.workflows_today(store.db, q.local_day(NOW, TZ))
    assert wf == {"analysed": 5, "in_workflows": 4, "by_pattern": {"coding": 3, "writing": 1}}


def test_workflow_efficiency_counts_actions_that_carry_on_their_workflow(store):
    # 09:00 c, 09:01 c (continues), 09:02 c (continues), 09:03 w (switch), 09:04 noise,
    # 09:05 w (after noise: a switch), 09:30 w (after a 25 min pause: a fresh start)
    minutes = [0, 1, 2, 3, 4, 5, 30]
    _analysed(store, [0, 0, 0, 1, -1, 1, 1], [9 + m / 60 for m in minutes])
    eff = q.efficiency_today(store.db, q.local_day(NOW, TZ))
    assert (eff.analysed, eff.continued) == (7, 2)
    assert q.workflow_efficiency(store.db, q.local_day(NOW, TZ)) == pytest.approx(2 / 7)


def test_hot_patterns_rank_todays_activity_first_and_hdbscan_count_comes_from_the_run(store):
    _analysed(store, [0, 0, 0, 1])
    hot = q.hot_patterns(store.db, day=q.local_day(NOW, TZ))
    assert [(p.name, p.today) for p in hot] == [("coding", 3), ("writing", 1)]
    assert q.algorithm_cluster_count(store.db, "hdbscan") == 7
    assert q.latest_run_info(store.db)["consensus_score"] == 0.8


def test_a_one_method_run_has_no_consensus_score(store):
    """A first cycle from few workflow units groups them by similarity alone: the 1.0 it stores
    is that one method agreeing with itself, so no read model reports it as a consensus score."""
    from selflow_qt.analyze.insights import learning_progress
    from selflow_qt.store.models import AnalysisRun
    from selflow_qt.store.queries.training import clustering_summary

    one = {"algorithms": {"similarity": {"clusters": 1}}, "reduction": "few units"}
    five = {"algorithms": {n: {"clusters": 3} for n in "abcde"}, "reduction": "umap"}
    for score, metrics in ((1.0, one), (0.8, five), (1.0, one)):
        AnalysisRun.create(status="completed", consensus_score=score, metrics=metrics)
    assert q.tray_snapshot(store.db, store.settings.budget_bytes).consensus_score is None
    assert clustering_summary(store.db).consensus_score is None
    assert [p.consensus_score for p in learning_progress(store.db)] == [None, 0.8, None]
