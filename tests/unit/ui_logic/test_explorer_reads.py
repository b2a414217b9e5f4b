"""The Cluster Explorer's read models: sampling, event rows and specialization ideas."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selflow_qt.core.event import Event
from selflow_qt.store.models import Pattern, TrainingSession
from selflow_qt.store.queries import explorer as reads
from selflow_qt.store.writer import insert_events


@dataclass
class _Projection:  # the fields of analyze.read.Projection that sampling touches
    event_ids: np.ndarray
    xy: np.ndarray
    consensus: np.ndarray
    per_algorithm: dict = field(default_factory=dict)


def test_sampling_keeps_rows_aligned_and_caps_the_size():
    n = 1000
    ids = np.arange(n, dtype=np.int64) * 10
    proj = _Projection(ids, np.c_[ids, -ids].astype(np.float32), (ids % 7).astype(np.int32))
    proj.per_algorithm = {"gmm": (ids % 3).astype(np.int32)}
    small = reads.sample_projection(proj, 100)
    assert len(small.event_ids) == 100 and np.all(np.diff(small.event_ids) > 0)
    assert np.array_equal(small.xy[:, 0], small.event_ids)
    assert np.array_equal(small.consensus, small.event_ids % 7)
    assert np.array_equal(small.per_algorithm["gmm"], small.event_ids % 3)
    assert reads.sample_projection(proj, 5000) is proj


def test_event_views_keep_the_requested_order(store):
    with store.db.atomic():
        insert_events(
            store.db,
            [
                Event(ts=1.0, source="shell", action="command", cmd="make", cwd="/w"),
                Event(ts=2.0, source="fs", action="move", path="/a", dest="/b"),
                Event(ts=3.0, source="app", action="focus", app="code"),
            ],
        )
    rows = reads.event_views(store.db, [3, 1, 2, 99])
    assert [(r.event_id, r.subject) for r in rows] == [(3, "code"), (1, "make"), (2, "/a → /b")]


def test_a_history_line_without_a_time_is_not_shown_with_the_import_time(store):
    """Untimed shell history gets invented times just before the import (for order only): the
    table said '2026-12-07 22:09:33' for a line typed who knows when."""
    with store.db.atomic():
        insert_events(
            store.db,
            [
                Event(ts=1.7e9, source="shell", action="command", cmd="ls",
                      meta={"ts_estimated": True}),
                Event(ts=1.7e9 + 1, source="shell", action="command", cmd="make"),
            ],
        )  # fmt: skip
    untimed, timed = reads.event_views(store.db, [1, 2])
    assert untimed.when == reads.NO_TIME and timed.when.startswith("20")


def test_ideas_list_queued_sessions_then_untrained_patterns(store):
    trained = Pattern.create(name="coding", event_count=500, confidence=0.9)
    Pattern.create(name="writing", event_count=300, confidence=0.8)
    Pattern.create(name="rare", event_count=5, confidence=0.9)
    Pattern.create(name="unsure", event_count=900, confidence=0.2)
    TrainingSession.create(
        model_id="m", status="queued",
        metadata={"pattern_id": trained.id, "pattern_name": "coding", "reason": "new pattern"},
    )  # fmt: skip
    ideas = reads.specialization_ideas(store.db)
    assert [(i.kind, i.pattern_name) for i in ideas] == [
        ("queued", "coding"),
        ("candidate", "writing"),
    ]
    assert ideas[0].text == f"Queued #{ideas[0].session_id}: coding — new pattern"
    # a pattern the analysis did not queue is not promised an agent (issue 24: "Worth an
    # agent: Coding" in the explorer beside "Nothing queued" in the Training Center)
    assert ideas[1].text.startswith("Not queued: writing — ")
