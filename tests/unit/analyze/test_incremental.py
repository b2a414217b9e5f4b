"""Incremental detection: new events join known patterns; a new workflow becomes a named pattern."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import numpy as np
import pytest

from selflow_qt.analyze.cycle import run_cycle
from selflow_qt.analyze.dataset import load_events
from selflow_qt.analyze.incremental import run_incremental
from selflow_qt.core.event import Event
from selflow_qt.store.models import Notification, Pattern
from selflow_qt.store.writer import insert_events

START = datetime(2026, 11, 16).timestamp()  # a Monday, local midnight
HELD = "design"  # the workflow the person starts only after the first cycle


@pytest.fixture(scope="module")
def after_first_cycle(tmp_path_factory):
    """(ctx, later events): a cycle on three days without HELD; the fourth day still to come."""
    from selflow_qt.demo.generator import generate_demo
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path_factory.mktemp("incremental"))
    ctx.settings.analysis_umap = "off"
    events = list(generate_demo(4, seed=0, start=START, events_per_day=2000))
    cut = len(events) * 3 // 4
    with ctx.db.atomic():
        insert_events(ctx.db, [e for e in events[:cut] if e.meta["workflow"] != HELD])
    result = run_cycle(ctx)
    assert result.patterns
    covered = set()  # the workflows the cycle's patterns stand for (by their events' truth)
    for p in result.patterns:
        mine = [
            w
            for w, c in zip(result.truth, result.consensus_labels, strict=True)
            if c == p.cluster_label
        ]
        covered.add(Counter(mine).most_common(1)[0][0])
    yield ctx, events[cut:], covered
    ctx.close()


def _stream(ctx, events, every_s: float = 120.0):
    """Insert ``events`` in 2-minute slices, checking after each: yields (slice end, result)."""
    i, t = 0, events[0].ts
    while i < len(events):
        t += every_s
        j = i
        while j < len(events) and events[j].ts < t:
            j += 1
        if j > i:
            with ctx.db.atomic():
                insert_events(ctx.db, events[i:j])
            i = j
            yield events[j - 1], run_incremental(ctx, now=t)


@pytest.mark.timeout(240)
@pytest.mark.timeout(240)
def test_known_work_joins_its_pattern_and_a_new_workflow_is_named(after_first_cycle):
    ctx, later, covered = after_first_cycle
    assert HELD not in covered
    known_before = {p.id for p in Pattern.select()}
    min_events = ctx.settings.incremental_min_events
    assigned: Counter = Counter()
    found: dict[int, tuple[str, float, int]] = {}  # pattern id -> (workflow, share, HELD seen)
    for last, res in _stream(ctx, later):
        assigned.update(res.assigned)
        held_seen = sum(1 for e in later if e.meta["workflow"] == HELD and e.ts <= last.ts)
        truth = dict(zip(*_ids_truth(ctx), strict=True))
        for p in res.new_patterns:
            members = res.members[p.pattern_id]
            ((wf, n),) = Counter(truth[i] for i in members).most_common(1)
            found[p.pattern_id] = (wf, n / len(members), held_seen)
            note = Notification.get(Notification.data["pattern_id"] == p.pattern_id)
            assert note.title == f"New pattern: {p.name}" and note.kind == "pattern"
    held = [(pid, share, seen) for pid, (wf, share, seen) in found.items() if wf == HELD]
    assert held, f"the new workflow was never noticed: {found}"
    pid, share, seen = held[0]
    # noticed soon after the evidence is there, not after a full cycle; mostly that workflow
    assert seen <= 2 * min_events and share >= 0.7
    assert pid not in known_before and "design" in Pattern.get_by_id(pid).name.lower()
    # nothing the known patterns already stand for was announced again, and nothing mixed
    assert all(wf not in covered and share >= 0.7 for wf, share, _ in found.values()), found
    assert sum(assigned[p] for p in known_before) > 0.5 * len(later)


def _ids_truth(ctx):
    t = load_events(ctx.db)
    return t.ids.tolist(), t.workflow


def test_nothing_new_is_cheap_and_changes_nothing(tmp_path):
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path)
    assert run_incremental(ctx).checked == 0
    with ctx.db.atomic():
        insert_events(
            ctx.db,
            [Event(ts=1e9 + i, source="fs", action="modify", path="/h/u/a.txt") for i in range(5)],
        )
    first = run_incremental(ctx)
    assert (first.checked, first.new_events) == (5, 5)
    again = run_incremental(ctx)
    assert again.new_events == 0 and not again.assigned and not again.new_patterns
    ctx.close()


def test_one_repeated_event_is_no_workflow(tmp_path):
    """An editor saving one file every few seconds is many events, but not a pattern."""
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path)
    t0 = 1.8e9
    saves = [
        Event(ts=t0 + 5 * i, source="fs", action="modify", path="/home/u/notes/today.md")
        for i in range(200)
    ]
    with ctx.db.atomic():
        insert_events(ctx.db, saves)
    res = run_incremental(ctx)
    assert res.novel == 200 and not res.new_patterns
    assert Pattern.select().count() == 0 and Notification.select().count() == 0
    ctx.close()


def test_first_day_groups_become_patterns_before_any_cycle(tmp_path):
    """No cycle yet: an hour of two distinct workflows gives named patterns."""
    from selflow_qt.demo.generator import generate_demo
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path)
    day = [e for e in generate_demo(1, seed=2, start=START, events_per_day=2500)]
    day = [e for e in day if e.ts < day[0].ts + 3 * 3600]
    names = []
    for _last, res in _stream(ctx, day, every_s=600.0):
        names += [p.name for p in res.new_patterns]
    assert names, "no pattern on day one"
    assert len(set(names)) == len(names)
    assert np.all(
        [Pattern.get_by_id(p.id).clustering_method == "incremental" for p in Pattern.select()]
    )
    ctx.close()


def test_new_shell_work_in_home_is_not_taken_for_a_known_pattern(tmp_path):
    """A known admin pattern and a new kind of shell work share only "a command with one
    argument, run in ~": the new work is novel event by event and announced as new."""
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(tmp_path)
    Pattern.create(
        name="System administration (systemctl, sudo)",
        pattern_type="workflow",
        confidence=1.0,
        event_count=80,
        first_seen=START,
        last_seen=START + 3600,
        clustering_method="consensus",
        metadata={
            "term_vector": {
                "act:shell/command": 0.3,
                "cwd:~": 0.3,
                "nargs:1": 0.23,
                "act:app/focus": 0.16,
                "verb:sudo": 0.12,
                "verb:systemctl": 0.1,
                "arg:cron": 0.1,
            }
        },
    )
    verbs = ["nmap", "scp", "john", "hydra", "nc", "gobuster", "searchsploit", "msfconsole"]
    new = [
        Event(
            ts=START + 7200 + i * 30.0,
            source="shell",
            action="command",
            cmd=f"{verbs[i % len(verbs)]} 10.1.26.{i % 5}",
            cwd="/home/u",
        )
        for i in range(40)
    ]
    with ctx.db.atomic():
        insert_events(ctx.db, new)
    res = run_incremental(ctx, now=new[-1].ts)
    assert res.novel == 40 and not res.assigned
    assert len(res.new_patterns) == 1
    assert Pattern.select().count() == 2  # the known pattern kept its name and terms
    assert Pattern.get_by_id(1).name.startswith("System administration")
    ctx.close()
