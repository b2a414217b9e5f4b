"""Pattern identity across cycles, the trigger criteria, naming, and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest

from selflow_qt.analyze.cycle import run_cycle
from selflow_qt.analyze.semantics import name_cluster
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
    assert all(
        kept[p.pattern_id].name.split(" ")[0] == p.name.split(" ")[0] for p in first.patterns
    )
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
    assert set(_by_name(report)) == {"fill", "sources", "entropy", "pilot"}


def test_trigger_waits_for_the_fill(buffer_store):
    buffer_store.settings.budget_bytes = 64 * 1024 * 1024
    c = _by_name(evaluate_trigger(buffer_store))
    assert (
        not c["fill"].passed and c["sources"].passed and c["entropy"].passed and c["pilot"].passed
    )


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
        "Design assets in ~/Design"
    )
    name = name_cluster({"verb:sudo": 0.5, "verb:systemctl": 0.4, "verb:ssh": 0.2})[0]
    assert name == "System administration (systemctl, ssh)"


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
    assert names == {"fill", "sources", "entropy", "pilot"}
    assert status["buffer"]["events"] == 0  # the cycle reset it
