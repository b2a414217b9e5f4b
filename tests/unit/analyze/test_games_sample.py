"""`selflow analyze` on real shell sessions: patterns named by what was done, seen when it was done.

The sample (``data/games-sample.jsonl``) is 453 commands of nine students' whole sessions in
four hands-on cybersecurity training games (Svabensky et al. 2021, as in ../shared/data): the
recordings of different games overlap in time, and every command's ``app`` is the host it ran on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from selflow_qt.cli import main

SAMPLE = Path(__file__).parent / "data" / "games-sample.jsonl"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """Import the sample and run `selflow analyze`; the stored patterns and assignments."""
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.models import ClusterAssignment, Pattern

    d = str(tmp_path_factory.mktemp("games"))
    assert main(["--data-dir", d, "import", "jsonl", str(SAMPLE)]) == 0
    assert main(["--data-dir", d, "analyze"]) == 0
    ctx = StoreContext.open(d)
    rows = ctx.db.execute_sql(
        "SELECT id, ts, json_extract(meta, '$.game'), cmd, cwd, app FROM events"
    ).fetchall()
    events = {r[0]: r[1:] for r in rows}
    patterns = list(Pattern.select())
    labels = {a.event_id: a.consensus for a in ClusterAssignment.select()}
    ctx.close()
    return events, patterns, labels


def test_patterns_are_named_by_commands_not_by_the_host(analysed):
    events, patterns, _ = analysed
    hosts = {app for *_, app in events.values() if app}
    said = " ".join(f"{cmd or ''} {cwd or ''}" for _, _, cmd, cwd, _ in events.values())
    assert len(patterns) >= 2
    for p in patterns:
        words = [w.strip("(),:") for w in p.name.split()]
        assert not hosts & set(words), f"{p.name!r} is named after a host"
        named = [w for w in words if w and w not in ("Shell", "work", "in", "activity")]
        assert len(named) >= 2, f"{p.name!r} is a bare word"
        assert all(w in said for w in named), f"{p.name!r}: words not from the commands"


def test_first_and_last_seen_are_the_times_of_the_patterns_events(analysed):
    events, patterns, labels = analysed
    for p in patterns:
        label = p.metadata["cluster_label"]
        times = [events[e][0] for e, c in labels.items() if c == label]
        assert p.first_seen == pytest.approx(min(times)), p.name
        assert p.last_seen == pytest.approx(max(times)), p.name
        assert p.first_seen < p.last_seen < 1.6e9  # 2017, when the games were played


def test_games_are_told_apart(analysed):
    events, _, labels = analysed
    ids = sorted(labels)
    truth = [events[e][1] for e in ids]
    found = np.array([labels[e] for e in ids])
    assert adjusted_rand_score(truth, found) >= 0.5
