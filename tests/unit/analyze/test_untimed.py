"""An untimed history is cut into workflow units by what it contains, not by invented gaps."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from selflow_qt.analyze import untimed
from selflow_qt.analyze.dataset import EventTable
from selflow_qt.analyze.features import build_features
from selflow_qt.analyze.units import build_units, split_units

CODING = [
    "cd ~/src/shop",
    "git status",
    "vim shop/cart.py",
    "pytest tests/test_cart.py -x",
    "git diff shop/cart.py",
    "git add shop/cart.py",
    'git commit -m "cart totals"',
    "pytest -q",
    "git push origin main",
    "ruff check shop",
]
OPS = [
    "ssh deploy@web01",
    "docker ps",
    "docker logs shop-api --tail 50",
    "sudo systemctl restart nginx",
    "journalctl -u nginx --since today",
    "df -h /var",
    "docker compose pull",
    "docker compose up -d",
    "curl -I https://shop.example.com/health",
    "exit",
]
NOTES = [
    "cd ~/notes",
    "ls",
    "vim meetings/2026-12-07.md",
    "grep -ri invoice .",
    "pandoc report.md -o report.pdf",
    "xdg-open report.pdf",
    "cp report.pdf ~/Documents/reports",
    "less todo.md",
    "vim todo.md",
    "wc -w report.md",
]
ROUTINES = {"coding": CODING, "ops": OPS, "notes": NOTES}


def history(seed: int = 0, sittings: int = 3, length: int = 30) -> tuple[list[str], list[str]]:
    """(commands, routine of each): sittings of three routines one after another, each
    sitting a routine's commands in a varied order (the first, cd or ssh, stays first)."""
    rng = np.random.default_rng(seed)
    cmds: list[str] = []
    truth: list[str] = []
    for _ in range(sittings):
        for name, steps in ROUTINES.items():
            body = steps[1:-1] if name == "ops" else steps[1:]
            seq = [steps[0]] + [body[int(i)] for i in rng.integers(0, len(body), length - 2)]
            seq += [steps[-1]] if name == "ops" else [body[int(rng.integers(len(body)))]]
            cmds += seq
            truth += [name] * len(seq)
    return cmds, truth


def untimed_table(cmds: list[str], start: float = 1.7e9) -> EventTable:
    """Events as `selflow import shell` stores a history without times: 1 s apart, no cwd."""
    n = len(cmds)
    return EventTable(
        ids=np.arange(1, n + 1),
        ts=start + np.arange(n, dtype=np.float64),
        tz_offset=np.zeros(n, np.int32),
        source=["shell"] * n,
        action=["command"] * n,
        path=[None] * n,
        dest=[None] * n,
        app=[None] * n,
        cmd=list(cmds),
        cwd=[None] * n,
        workflow=[None] * n,
    )


def test_evenly_spaced_times_are_recognised_as_invented_and_measured_ones_are_not():
    invented = 1.7e9 + np.arange(30, dtype=float)
    assert untimed.even_gaps(invented)[1:].all()
    measured = 1.7e9 + np.cumsum(np.random.default_rng(0).uniform(1, 30, 30))
    assert not untimed.even_gaps(measured).any()
    # a measured stretch, then an untimed history appended after it
    both = np.concatenate([measured, measured[-1] + 3600 + np.arange(20, dtype=float)])
    even = untimed.even_gaps(both)
    assert not even[:30].any() and even[31:].all()


def test_cd_and_ssh_give_every_command_the_folder_and_host_it_ran_in():
    terms = untimed.context_terms(
        ["ls", "cd ~/src/shop", "make", "cd ../web", "ssh bob@web01", "uptime", "exit", "ls"]
    )
    assert "folder:~" in terms[0]
    assert "folder:~/src/shop" in terms[2]
    assert "folder:~/src/web" in terms[4] and not any(t.startswith("host:") for t in terms[4])
    assert "host:web01" in terms[5] and "folder:~/src/web" not in terms[5]
    # exit: back on this machine, in the folder it left
    assert "folder:~/src/web" in terms[7] and "host:web01" not in terms[7]


def test_an_untimed_history_is_cut_where_its_content_changes():
    cmds, truth = history()
    t = untimed_table(cmds)
    fs = build_features(t, matrix=False)
    from selflow_qt.analyze.units import SignatureTerms

    sig = SignatureTerms.build(fs.inverse, fs.signature_tokens, t.cmd)
    pieces = split_units(t.ids, t.ts, content=sig.matrix[fs.inverse], cmds=t.cmd)
    assert pieces.max() + 1 >= 9  # at least one cut per sitting
    # pieces keep to one routine (at most a command or two across a boundary)
    truth_arr = np.array(truth)
    for p in np.unique(pieces):
        names, counts = np.unique(truth_arr[pieces == p], return_counts=True)
        assert counts.max() >= len(truth_arr[pieces == p]) - 2, (
            p,
            dict(zip(names, counts, strict=True)),
        )


def test_an_untimed_multi_routine_history_is_more_than_one_workflow_unit():
    cmds, truth = history()
    t = untimed_table(cmds)
    fs = build_features(t, matrix=False)
    units = build_units(t.ids, t.ts, fs.inverse, fs.signature_tokens, t.cmd)
    assert len(units) >= 3
    truth_arr = np.array(truth)
    for u in range(len(units)):  # each keeps to one routine, but for a command or two
        _, counts = np.unique(truth_arr[units.of_event == u], return_counts=True)
        assert counts.max() >= counts.sum() - 2


def test_measured_times_still_cut_on_pauses_only():
    ts = np.array([0, 5, 10, 15, 20, 2000, 2005, 2010], dtype=float)
    cmds = ["git status"] * 4 + ["docker ps"] * 4
    from scipy import sparse

    content = sparse.csr_matrix(np.eye(8, dtype=np.float32))
    assert split_units(np.arange(8), ts, content=content, cmds=cmds).tolist() == [0] * 5 + [1] * 3


def import_and_analyse(tmp_path: Path, cmds: list[str]):
    """`selflow import shell` of ``cmds`` as a plain bash history, then one cycle; its result."""
    from selflow_qt.analyze.cycle import run_cycle
    from selflow_qt.collect.importers import import_file
    from selflow_qt.store.context import StoreContext

    path = tmp_path / ".bash_history"
    path.write_text("".join(f"{c}\n" for c in cmds), encoding="utf-8")
    os.utime(path, (1.7e9, 1.7e9))
    ctx = StoreContext.open(tmp_path / "data")
    ctx.settings.analysis_umap = "off"
    try:
        assert import_file(ctx, "shell", path).imported == len(cmds)
        return run_cycle(ctx)
    finally:
        ctx.close()


def test_an_imported_untimed_history_gives_a_pattern_per_routine(tmp_path: Path):
    """`selflow import shell` of a plain bash history, then a cycle: several patterns, not one."""
    cmds, truth = history(seed=1, sittings=4)
    result = import_and_analyse(tmp_path, cmds)
    assert len(result.patterns) >= 2
    labels = result.consensus_labels
    truth_arr = np.array(truth)
    # no pattern holds everything, and each pattern is mostly one routine
    for c in np.unique(labels[labels >= 0]):
        names, counts = np.unique(truth_arr[labels == c], return_counts=True)
        assert counts.max() >= 0.7 * counts.sum(), dict(zip(names, counts, strict=True))
    assert max(np.bincount(labels[labels >= 0])) <= 0.6 * len(labels)


def test_untimed_pieces_sharing_only_everyday_commands_stay_apart():
    # piece 1 shares some terms with piece 0 (cosine 0.45): a context that goes on when the
    # times were measured; cut by content in an untimed history, it stays a unit of its own
    vecs = np.array([[1.0, 0.0], [0.45, np.sqrt(1 - 0.45**2)]], dtype=np.float32)
    pieces = np.array([0, 0, 0, 1, 1, 1])
    ts = np.arange(6, dtype=float)
    from selflow_qt.analyze.units import join_pieces

    assert join_pieces(pieces, np.arange(6), ts, vecs).tolist() == [0] * 6
    apart = join_pieces(pieces, np.arange(6), ts, vecs, untimed=np.array([True, True]))
    assert apart.tolist() == [0, 0, 0, 1, 1, 1]


def test_an_untimed_unit_takes_the_units_around_it_as_its_context():
    from selflow_qt.analyze.units import NEIGHBOURS, neighbour_context

    k = 2 * NEIGHBOURS + 3
    own = np.eye(k, dtype=np.float32)
    # units numbered in another order than they arrived: the context follows arrival order
    arrival = np.random.default_rng(0).permutation(k)
    units = np.repeat(arrival, 3)
    ctx = neighbour_context(own, units, np.arange(len(units)))
    for pos, u in enumerate(arrival.tolist()):
        weights = ctx[u, arrival]  # its context's share of each unit, in arrival order
        assert weights.argmax() == pos  # mostly itself
        near = [q for q in range(k) if 0 < abs(q - pos) <= NEIGHBOURS]
        far = [q for q in range(k) if abs(q - pos) > NEIGHBOURS]
        assert all(weights[q] > 0 for q in near) and all(weights[q] == 0 for q in far)
        if pos + 2 < k:
            assert weights[pos + 1] > weights[pos + 2]  # nearer weighs more


def test_real_sessions_one_after_another_give_units_of_one_game_each():
    """The games sample's sessions one after another, untimed: a unit seldom spans two games
    (the units' homogeneity against the games bounds any clustering of them)."""
    import json

    from sklearn.metrics import homogeneity_score

    from tests.unit.analyze.test_untimed_patterns import SAMPLE, _untimed_history

    records = [json.loads(x) for x in SAMPLE.read_text(encoding="utf-8").splitlines()]
    cmds, games = _untimed_history(records)
    t = untimed_table(cmds)
    fs = build_features(t, matrix=False)
    units = build_units(t.ids, t.ts, fs.inverse, fs.signature_tokens, t.cmd)
    assert homogeneity_score(games, units.of_event) >= 0.92  # 0.91 with the timed join
