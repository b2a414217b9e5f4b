"""Pattern identity across cycles, the trigger criteria, naming, and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest

from selflow_qt.analyze.cycle import run_cycle
from selflow_qt.analyze.names import name_cluster
from selflow_qt.analyze.trigger import evaluate_trigger
from selflow_qt.core.event import Event
from selflow_qt.store.models import Notification
from selflow_qt.store.writer import insert_events

START = datetime(2026, 11, 16).timestamp()


@pytest.mark.timeout(240)
def test_patterns_keep_their_identity_across_cycles(tmp_path, open_demo):
    from selflow_qt.demo.generator import generate_demo

    ctx = open_demo(tmp_path, days=4, events_per_day=2000)
    first = run_cycle(ctx)
    # three more days of the same person's work (another seed), then a cycle over all seven
    later = generate_demo(3, seed=7, start=START + 4 * 86_400, events_per_day=2000)
    with ctx.db.atomic():
        insert_events(ctx.db, list(later))
    second = run_cycle(ctx)

    def pattern_by_event(res) -> dict[int, int]:
        """event id -> the pattern id its consensus cluster was saved as (-1: none)."""
        by_label = {p.cluster_label: p.pattern_id for p in res.patterns}
        return {
            int(e): by_label.get(int(c), -1)
            for e, c in zip(res.event_ids, res.consensus_labels, strict=True)
        }

    before, after = pattern_by_event(first), pattern_by_event(second)
    assert len(first.patterns) >= 5
    for p in first.patterns:
        events = [e for e, pid in before.items() if pid == p.pattern_id]
        now = Counter(after[e] for e in events).most_common(1)[0][0]
        assert now == p.pattern_id, f"{p.name}: its events are now pattern {now}"
    kept = {p.pattern_id: p for p in second.patterns}
    assert not any(kept[p.pattern_id].is_new for p in first.patterns)
    # a pattern keeps its name's words (a small cluster of stray apps may reorder them)
    for p in first.patterns:
        before_words = set(p.name.replace(",", "").split())
        after_words = set(kept[p.pattern_id].name.replace(",", "").split())
        assert len(before_words & after_words) >= min(2, len(before_words)), (p.name, after_words)
    notes = Notification.select().where(Notification.kind == "pattern").count()
    assert notes == len({p.pattern_id for p in first.patterns + second.patterns})
    ctx.close()


@pytest.fixture
def buffer_store(tmp_path, open_demo):
    ctx = open_demo(tmp_path, days=1, events_per_day=1500)
    s = ctx.settings
    s.budget_bytes = 100_000  # the demo day is ~250 KB: fill passes
    s.trigger_fill_ratio, s.trigger_min_sources = 0.9, 2
    s.trigger_min_entropy, s.trigger_min_silhouette = 1.5, 0.1
    yield ctx
    ctx.close()


def _by_name(report):
    return {c.name: c for c in report.criteria}


def test_trigger_ready_when_every_criterion_passes(buffer_store):
    report = evaluate_trigger(buffer_store)
    assert report.ready, report.summary()
    assert set(_by_name(report)) == {"fill", "sources", "entropy", "pilot", "units"}


def test_status_trigger_reuses_the_stored_pilot_and_units(buffer_store):
    from selflow_qt.analyze.trigger import quick_trigger

    before = _by_name(quick_trigger(buffer_store))
    assert not before["pilot"].passed and "not checked yet" in before["pilot"].detail
    assert not before["units"].passed and "not checked yet" in before["units"].detail
    full = _by_name(evaluate_trigger(buffer_store))
    quick = quick_trigger(buffer_store)
    assert quick.ready
    for name, c in _by_name(quick).items():
        assert (c.value, c.passed) == (full[name].value, full[name].passed), name
    assert "checked just now" in _by_name(quick)["pilot"].detail


def test_status_trigger_builds_no_features(buffer_store):
    """selflow status's trigger section loads no numpy, let alone scikit-learn (the ~4 s it
    used to take), once the analysis process has stored a report."""
    import subprocess
    import sys

    evaluate_trigger(buffer_store)  # what the analysis process does every minute
    code = (
        "import sys; from selflow_qt.store.context import StoreContext; "
        "from selflow_qt.analyze.trigger import quick_trigger; "
        f"ctx = StoreContext.open({str(buffer_store.data_dir)!r}); quick_trigger(ctx); "
        "print(sorted(m for m in ('numpy', 'sklearn', 'scipy', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _a_cycle_has_completed() -> None:
    from selflow_qt.store.models import AnalysisRun

    AnalysisRun.create(status="completed", trigger="manual")


def test_trigger_waits_for_the_fill(buffer_store):
    _a_cycle_has_completed()  # after the first cycle, the byte budget decides
    buffer_store.settings.budget_bytes = 64 * 1024 * 1024
    c = _by_name(evaluate_trigger(buffer_store))
    assert (
        not c["fill"].passed and c["sources"].passed and c["entropy"].passed and c["pilot"].passed
    )


CMDS = ["ls", "make", "git status", "git diff", "pytest -q"]


def _stream(n: int, every_s: float, start: float = START) -> list[Event]:
    """``n`` events ``every_s`` apart from two sources in a few folders and commands."""
    out = []
    for i in range(n):
        t = start + i * every_s
        if i % 3:
            out.append(
                Event(ts=t, source="fs", action="modify", path=f"/home/u/p{i % 4}/f{i % 9}.md")
            )
        else:
            out.append(
                Event(
                    ts=t,
                    source="shell",
                    action="command",
                    cmd=CMDS[i % len(CMDS)],
                    cwd="/home/u/p1",
                )
            )
    return out


def test_first_cycle_starts_on_an_hour_of_activity_not_the_budget(tmp_path):
    """Day one at ~160 B an event: 64 MB is months away, an hour of activity is enough."""
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path)
    assert ctx.settings.budget_bytes == 64 * 1024 * 1024
    with ctx.db.atomic():
        insert_events(ctx.db, _stream(60, 30.0))  # 30 minutes, 60 events: not yet
    early = evaluate_trigger(ctx)
    assert early.cold_start
    text = early.first_analysis_text()  # what the Training Center says before the first cycle
    assert text.startswith("first analysis: 60 of 2,000 events") and "expected in ~" in text
    assert not _by_name(early)["fill"].passed and early.eta_s is not None and early.eta_s > 0
    with ctx.db.atomic():
        insert_events(ctx.db, _stream(100, 30.0, START + 1800))  # 80 minutes, 160 events
    report = evaluate_trigger(ctx)
    fill = _by_name(report)["fill"]
    assert report.cold_start and fill.passed and fill.value == 1.0, report.summary()
    assert report.eta_s == 0.0
    _a_cycle_has_completed()  # later cycles follow the budget
    later = evaluate_trigger(ctx)
    assert not later.cold_start and not _by_name(later)["fill"].passed
    assert later.eta_s is not None and later.eta_s > 86_400  # truthful: days away at this rate
    from selflow_qt.analyze.trigger import budget_text

    said = budget_text(160 * 1000, 1000, 0.9 * 64 * 2**20, ctx.settings)
    assert "~377,487 events of ~160 B" in said and "every 30 s" in said
    ctx.close()


def test_the_pilot_reruns_as_a_small_buffer_grows(tmp_path):
    from selflow_qt.analyze.trigger import PILOT_KEY
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.state import kv_get

    ctx = StoreContext.open(tmp_path)
    with ctx.db.atomic():
        insert_events(ctx.db, _stream(60, 30.0))
    evaluate_trigger(ctx)
    assert kv_get(ctx.db, PILOT_KEY)["events"] == 60
    with ctx.db.atomic():
        insert_events(ctx.db, _stream(60, 30.0, START + 1800))
    evaluate_trigger(ctx)  # 64 MB * 5% was never reached, but the events doubled
    assert kv_get(ctx.db, PILOT_KEY)["events"] == 120
    ctx.close()


def test_trigger_needs_several_sources(tmp_path):
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path)
    ctx.settings.budget_bytes = 1000
    events = [
        Event(ts=START + i, source="fs", action="modify", path=f"/home/u/d{i % 7}/f{i % 13}.txt")
        for i in range(400)
    ]
    with ctx.db.atomic():
        insert_events(ctx.db, events)
    report = evaluate_trigger(ctx)
    c = _by_name(report)
    assert c["fill"].passed and not c["sources"].passed and c["sources"].value == 1
    assert not report.ready
    ctx.close()


def test_trigger_needs_entropy(buffer_store):
    buffer_store.settings.trigger_min_entropy = 20.0
    report = evaluate_trigger(buffer_store)
    c = _by_name(report)
    assert not c["entropy"].passed and c["fill"].passed and c["pilot"].passed
    assert not report.ready


def test_trigger_needs_pilot_structure(buffer_store):
    buffer_store.settings.trigger_min_silhouette = 0.99
    report = evaluate_trigger(buffer_store)
    c = _by_name(report)
    assert not c["pilot"].passed and c["fill"].passed and c["entropy"].passed
    assert 0.1 < c["pilot"].value < 0.99 and not report.ready


def test_names_come_from_the_terms():
    assert name_cluster({"ext:.py": 0.5, "verb:git": 0.2, "dir:~/src/app": 0.6})[0] == (
        "Python coding in ~/src/app"
    )
    assert name_cluster({"dir:~/Downloads": 0.8, "act:fs/move": 0.3})[0] == "Downloads tidy-up"
    assert name_cluster({"ext:.svg": 0.6, "app:inkscape": 0.3, "dir:~/Design": 0.9})[0] == (
        "Design assets with inkscape in ~/Design"
    )
    name = name_cluster({"verb:sudo": 0.5, "verb:systemctl": 0.4, "verb:ssh": 0.2})[0]
    assert name == "System administration with systemctl"


@pytest.mark.timeout(180)
def test_cli_analyze_json_and_status_trigger(tmp_path, capsys):
    from selflow_qt.cli import main

    d = str(tmp_path)
    assert main(["--data-dir", d, "demo", "--days", "2", "--events-per-day", "1500"]) == 0
    (tmp_path / "settings.json").write_text(json.dumps({"analysis_umap": "off"}))
    capsys.readouterr()
    assert main(["--data-dir", d, "analyze", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["patterns"] and set(out["algorithms"]) >= {"hdbscan", "gmm"}
    assert main(["--data-dir", d, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    names = {c["name"] for c in status["trigger"]["criteria"]}
    assert names == {"fill", "sources", "entropy", "pilot", "units"}
    assert status["buffer"]["events"] == 0  # the cycle reset it


def test_a_failed_automatic_cycle_is_not_restarted_every_minute(tmp_path):
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.models import AnalysisRun

    ctx = StoreContext.open(tmp_path)
    with ctx.db.atomic():
        insert_events(ctx.db, _stream(160, 30.0))
    assert _by_name(evaluate_trigger(ctx))["fill"].passed
    AnalysisRun.create(
        status="failed", trigger="budget", n_events=160, metrics={"error": "ValueError: too few"}
    )
    fill = _by_name(evaluate_trigger(ctx))["fill"]
    assert not fill.passed and "failed (too few); retrying at 201 events" in fill.detail
    with ctx.db.atomic():
        insert_events(ctx.db, _stream(41, 30.0, START + 160 * 30))
    assert _by_name(evaluate_trigger(ctx))["fill"].passed
    ctx.close()


@pytest.mark.timeout(240)
def test_a_pattern_whose_agent_predates_its_new_events_is_queued_for_retraining(
    tmp_path, open_demo
):
    """Each cycle retrains an agent whose pattern gained events (it was skipped for good once any
    agent covered the pattern); an agent trained on exactly the pattern's events is left alone."""
    from selflow_qt.demo.generator import generate_demo
    from selflow_qt.store.models import MicroAgent, TrainingSession

    ctx = open_demo(tmp_path, days=4, events_per_day=2000)
    first = run_cycle(ctx)
    assert first.queued_sessions, "the demo's workflows are worth agents"
    trained = {}
    for s in TrainingSession.select().where(TrainingSession.id.in_(first.queued_sessions)):
        s.status = "completed"
        s.save()
        MicroAgent.create(model_id=s.model_id, specialization=s.metadata["pattern_name"])
        trained[s.metadata["pattern_id"]] = s.model_id
    again = run_cycle(ctx)  # the same events: every agent still covers its pattern
    assert not again.queued_sessions
    later = generate_demo(2, seed=7, start=START + 4 * 86_400, events_per_day=2000)
    with ctx.db.atomic():
        insert_events(ctx.db, list(later))
    grown = run_cycle(ctx)
    retrains = [
        s
        for s in TrainingSession.select().where(TrainingSession.id.in_(grown.queued_sessions))
        if s.metadata.get("retrains")
    ]
    assert retrains, [d.reason for d in grown.decisions]
    for s in retrains:
        assert s.metadata["retrains"] == trained[s.metadata["pattern_id"]]
        assert s.model_id != s.metadata["retrains"] and "retrain" in s.metadata["reason"]
    ctx.close()
