"""Workflow units: cut on pauses and time jumps (arrival order), joined while the context goes on."""

from __future__ import annotations

import numpy as np

from selflow_qt.analyze import units as U
from selflow_qt.analyze.dataset import EventTable
from selflow_qt.analyze.features import build_features


def table(rows: list[tuple[float, str | None, str | None]]) -> EventTable:
    """Shell events (ts, cmd, cwd) in arrival order (ids 1..n), sorted by time like the loader."""
    ids = np.arange(1, len(rows) + 1)
    order = np.argsort([r[0] for r in rows], kind="stable")
    pick = [rows[i] for i in order]
    n = len(rows)
    return EventTable(
        ids=ids[order],
        ts=np.array([r[0] for r in pick], dtype=np.float64),
        tz_offset=np.zeros(n, np.int32),
        source=["shell"] * n,
        action=["command"] * n,
        path=[None] * n,
        dest=[None] * n,
        app=["host"] * n,
        cmd=[r[1] for r in pick],
        cwd=[r[2] for r in pick],
        workflow=[None] * n,
    )


def test_a_pause_far_longer_than_usual_starts_a_new_piece():
    ts = np.array([0, 5, 10, 15, 20, 2000, 2005, 2010], dtype=float)
    pieces = U.split_units(np.arange(8), ts)
    assert pieces.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]


def test_a_jump_back_in_time_is_another_recording_even_without_a_pause():
    # two recordings imported one after the other, overlapping in time
    ids = np.arange(6)
    ts = np.array([100, 105, 110, 101, 106, 111], dtype=float)
    assert U.split_units(ids, ts).tolist() == [0, 0, 0, 1, 1, 1]


def test_pieces_follow_arrival_order_not_time_order():
    ids = np.array([0, 3, 1, 4, 2, 5])  # rows in time order; ids say how they arrived
    ts = np.array([100, 101, 105, 106, 110, 111], dtype=float)
    assert U.split_units(ids, ts).tolist() == [0, 1, 0, 1, 0, 1]


def test_join_keeps_one_context_together_and_a_change_of_context_apart():
    vecs = np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32)
    pieces = np.array([0, 0, 1, 1, 2, 2])
    ts = np.array([0, 1, 60, 61, 120, 121], dtype=float)
    units = U.join_pieces(pieces, np.arange(6), ts, vecs)
    assert units.tolist() == [0, 0, 0, 0, 1, 1]
    # the same pieces after a pause beyond MAX_GAP_S stay apart
    far = ts + np.array([0, 0, 1, 1, 2, 2]) * U.MAX_GAP_S * 2
    assert U.join_pieces(pieces, np.arange(6), far, vecs).tolist() == [0, 0, 1, 1, 2, 2]


def test_vote_gives_every_event_its_units_majority_label():
    labels = np.array([3, 3, -1, 1, 2, 2, -1, -1])
    units = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    assert U.vote(labels, units).tolist() == [3, 3, 3, 3, 2, 2, -1, -1]


def test_session_coherence_is_high_for_one_workflow_and_low_for_a_mix():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    vecs = np.array([a, a, a, a, b, a, b, a], dtype=np.float32)
    session = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    coherence = U.session_coherence(vecs, session)
    assert coherence[0] > 0.9 and coherence[4] < 0.2
    assert U.session_weight(coherence)[0] == 1.0 and U.session_weight(coherence)[4] == 0.0


def test_two_interleaved_recordings_become_units_of_their_own_workflows():
    """Two students' sessions overlap in time; each unit keeps to one of them."""
    rng = np.random.default_rng(0)
    hack = ["nmap 10.0.0.5", "ssh bob@10.0.0.5", "hydra -l bob ssh://10.0.0.5", "cat flag.txt"]
    web = ["sqlmap -u http://site/app.php", "curl http://site/login.php", "sqlmap --dump"]
    rows: list[tuple[float, str | None, str | None]] = []
    for cmds, cwd, shift in ((hack, "/root", 0.0), (web, "/home/student", 3.0)):
        t = 1000.0 + shift
        for i in range(40):
            t += float(rng.uniform(2, 20))
            rows.append((t, cmds[i % len(cmds)], cwd))
    t = table(rows)
    fs = build_features(t, matrix=False)
    units = U.build_units(t.ids, t.ts, fs.inverse, fs.signature_tokens, t.cmd)
    student = (t.ids > 40).astype(int)  # ids 1..40: the first recording
    for u in np.unique(units.of_event):
        assert len(set(student[units.of_event == u].tolist())) == 1
    assert len(units) >= 2 and units.sizes.sum() == len(rows)
    # units of one student are nearer each other than to the other student's
    first = units.vectors[np.unique(units.of_event[student == 0])]
    second = units.vectors[np.unique(units.of_event[student == 1])]
    assert float(first.mean(0) @ second.mean(0)) < 0.5 * float(first.mean(0) @ first.mean(0))


def test_text_vectors_describe_each_unit_by_the_mean_of_its_events():
    """The cycle's optional text embeddings (analysis_text_embeddings) go onto the units."""
    base = U.WorkflowUnits(
        np.array([0, 0, 1]), np.eye(2, dtype=np.float32), np.array([2, 1], dtype=np.int64)
    )
    text = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    got = base.with_text(text)
    assert got.vectors.shape == (2, 4) and got.of_event.tolist() == [0, 0, 1]
    np.testing.assert_allclose(got.vectors[0, 2:], [2**-0.5, 2**-0.5], atol=1e-6)
    np.testing.assert_allclose(got.vectors[1, 2:], [0.6, 0.8], atol=1e-6)
