"""Untimed history: patterns follow what was done, and few of its lines are left in none.

An untimed history's workflow units are few, long and fine-grained; the clusterers then disagree
most on how many workflows there are. The consensus keeps what they share most information
about, counts a coarser algorithm that keeps a cluster whole as support, and lets a unit in
noise join the stable pattern it clearly lies in (``consensus.build_consensus(..., space=...)``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from selflow_qt.analyze.consensus import attach_to_nearest, build_consensus
from selflow_qt.analyze.features import build_features
from selflow_qt.analyze.units import build_units
from tests.unit.analyze.test_untimed import history, import_and_analyse, untimed_table

SAMPLE = Path(__file__).parent / "data" / "games-sample.jsonl"
BLOBS = 5
PER_BLOB = 6


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    """Five tight groups of six points far apart, and one more point inside group 4."""
    rng = np.random.default_rng(0)
    centres = np.array([[0, 10], [10, 0], [0, -10], [-10, 0], [7, 7]], dtype=float)
    X = np.vstack([c + rng.normal(0, 0.3, (PER_BLOB, 2)) for c in centres])
    X = np.vstack([X, centres[4]])  # its centre: every algorithm calls it noise
    truth = np.append(np.repeat(np.arange(BLOBS), PER_BLOB), 4)
    return X, truth


def _votes(truth: np.ndarray) -> dict[str, np.ndarray]:
    """Two algorithms find the five groups; three coarser ones each merge others (no two groups
    together in more than two of five; group 2 always in a cluster of three groups)."""
    fine = truth.copy()
    fine[-1] = -1

    def merge(*groups: tuple[int, ...]) -> np.ndarray:
        out = fine.copy()
        for label, members in enumerate(groups):
            out[np.isin(fine, members)] = label
        return out

    return {
        "fine_a": fine,
        "fine_b": fine.copy(),
        "coarse_a": merge((0, 1, 2), (3, 4)),
        "coarse_b": merge((2, 3, 4), (0, 1)),
        "coarse_c": merge((0, 2, 4), (1, 3)),
    }


def _consensus(space: np.ndarray | None):
    X, truth = _blobs()
    votes = _votes(truth)
    idx = np.arange(len(X))[:, None]
    w = np.ones((len(X), 1), dtype=np.float32)
    return build_consensus(votes, votes, idx, w, min_support=3, space=space), truth


def test_groups_the_finer_algorithms_agree_on_are_stable_when_coarser_ones_keep_them_whole():
    X, _ = _blobs()
    cons, truth = _consensus(X)
    labels = cons.labels[:-1]
    found = {int(labels[truth[:-1] == g][0]) for g in range(BLOBS)}
    assert len(found) == BLOBS, cons.labels
    for g in range(BLOBS):
        assert len(set(labels[truth[:-1] == g].tolist())) == 1
    # two algorithms reproduce each group and the three coarser ones hold it whole: stable
    assert sorted(cons.stable) == sorted(found), cons.support


def test_a_unit_in_noise_joins_the_pattern_it_lies_in():
    X, _ = _blobs()
    cons, _ = _consensus(X)
    assert cons.labels[-1] == cons.labels[4 * PER_BLOB]  # the centre of group 4
    assert cons.attached >= 1


def test_timed_data_keeps_support_by_matching_clusters_only():
    cons, truth = _consensus(None)
    # group 2: only the two finer algorithms have a cluster like it (Jaccard >= 0.5)
    assert cons.labels[2 * PER_BLOB] not in cons.stable, cons.support
    assert len(cons.stable) == BLOBS - 1
    assert cons.labels[-1] == -1


def test_a_far_unit_stays_out_of_every_pattern():
    X = np.array([[1.0, 0.0], [0.99, 0.1], [0.98, -0.1], [0.0, 1.0]])
    labels = np.array([0, 0, 0, -1])
    assert attach_to_nearest(labels, [0], X).tolist() == [0, 0, 0, -1]


# the clusterers' votes on the 17 units of ``seven_routine_history()`` (recorded): units 3 and
# 13 are the two ssh deploy sittings, which three of five keep together (two call one noise)
SEVEN_VOTES = {
    "density": [1, 1, 1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
    "gmm": [2, 2, 0, 0, 1, 1, 4, 3, 3, 3, 4, 1, 1, 0, 0, 2, 2],
    "hdbscan": [-1, 1, -1, -1, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 1, 1, -1],
    "hierarchical": [0, 0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 3, 4, 2, 1, 0, 0],
    "spectral": [0, 0, 5, 6, 2, 3, 4, 1, 1, 1, 4, 2, 3, 6, 5, 0, 0],
}
DEPLOYS = [3, 13]


def _seven_consensus(order: np.ndarray):
    votes = {k: np.array(v) for k, v in SEVEN_VOTES.items()}
    space = np.eye(8)[votes["hierarchical"]]  # each unit where its routine lies
    idx = np.arange(17)[:, None]
    w = np.ones((17, 1), dtype=np.float32)
    return build_consensus(votes, votes, idx, w, min_support=3, space=space, order=order)


def test_a_routine_most_algorithms_keep_together_is_a_pattern_when_it_recurs():
    """Two sittings of one routine, other work between them: the finer cut of most shared
    information may split them apart, but what most algorithms keep together recurs."""
    cons = _seven_consensus(np.arange(17))
    a, b = cons.labels[DEPLOYS]
    assert a == b and a >= 0 and a in cons.stable, cons.labels


def test_one_sitting_cut_in_two_is_not_a_routine():
    """The same two units one after the other are one sitting: no pattern of their own."""
    order = np.arange(17)
    order[[4, 13]] = order[[13, 4]]  # unit 13 comes right after unit 3
    cons = _seven_consensus(order)
    assert (cons.labels[DEPLOYS] < 0).all() or cons.labels[3] not in cons.stable, cons.labels


def _untimed_history(records: list[dict]) -> tuple[list[str], list[str]]:
    """(commands, game of each): whole sessions, a session of each game in turn."""
    sessions: dict[tuple, list[str]] = defaultdict(list)
    for e in records:
        sessions[(e["meta"]["game"], e["meta"]["session"])].append(" ".join(e["cmd"].split()))
    by_game: dict[str, list] = defaultdict(list)
    for (game, _), cmds in sessions.items():
        by_game[game].append((game, cmds))
    order = []
    for i in range(max(len(v) for v in by_game.values())):
        order += [v[i] for v in by_game.values() if i < len(v)]
    return [c for _, cmds in order for c in cmds], [g for g, cmds in order for _ in cmds]


def test_units_know_whether_their_times_were_invented():
    cmds, _ = history()
    t = untimed_table(cmds)
    fs = build_features(t, matrix=False)
    units = build_units(t.ids, t.ts, fs.inverse, fs.signature_tokens, t.cmd)
    assert units.mostly_untimed()
    t.ts = 1.7e9 + np.cumsum(np.random.default_rng(0).uniform(1, 30, len(cmds)))
    units = build_units(t.ids, t.ts, fs.inverse, fs.signature_tokens, t.cmd)
    assert not units.mostly_untimed()


@pytest.mark.timeout(300)
def test_an_untimed_history_of_real_sessions_gives_every_game_a_pattern(tmp_path: Path):
    """The sample's nine sessions of four games, one after another, timestamps dropped and
    imported as a plain bash history: each game is most of some pattern, no pattern holds
    half the lines, and few lines are left in none."""
    from sklearn.metrics import homogeneity_score

    records = [json.loads(x) for x in SAMPLE.read_text(encoding="utf-8").splitlines()]
    cmds, games = _untimed_history(records)
    result = import_and_analyse(tmp_path, cmds)
    named = {p.cluster_label for p in result.patterns}
    labels = np.array([c if c in named else -1 for c in result.consensus_labels.tolist()])
    truth = np.array(games)
    majority = {Counter(truth[labels == c].tolist()).most_common(1)[0][0] for c in named}
    assert majority == set(games), {c: Counter(truth[labels == c].tolist()) for c in named}
    assert np.bincount(labels[labels >= 0]).max() <= 0.5 * len(labels)
    # (a history's units are finer since their 48 directions: 18% of these 453 lines in none,
    # 13% before; on the bench's 3,973-line histories 2-10%)
    assert np.mean(labels < 0) <= 0.2
    assert homogeneity_score(truth, labels) >= 0.55


SEVEN_ROUTINES = {
    "coding": ["cd ~/src/shop", "git status", "git pull --rebase", "vim shop/cart.py",
               "pytest tests/test_cart.py -x", "git diff shop/cart.py", "git add shop/cart.py",
               'git commit -m "cart totals"', "pytest -q", "git push origin main",
               "ruff check shop", "git log --oneline -5"],
    "containers": ["cd ~/src/shop/deploy", "docker ps", "docker compose build api",
                   "docker compose up -d", "docker logs shop-api --tail 50", "docker compose ps",
                   "docker image prune -f", "docker exec -it shop-api sh", "docker compose down",
                   "docker stats --no-stream"],
    "deploy": ["ssh deploy@web01", "sudo systemctl status nginx", "sudo systemctl restart nginx",
               "journalctl -u nginx --since today", "df -h /var",
               "tail -n 100 /var/log/nginx/error.log", "uptime", "free -m",
               "sudo apt-get upgrade -y", "exit"],
    "dotfiles": ["cd ~/dotfiles", "vim .bashrc", "vim .config/nvim/init.lua", "source ~/.bashrc",
                 "stow nvim", "stow bash", "git -C ~/dotfiles diff",
                 "ln -sf ~/dotfiles/.gitconfig ~/.gitconfig", "cat .inputrc", "vim .tmux.conf"],
    "notes": ["cd ~/notes", "ls", "vim meetings/2026-12-07.md", "grep -ri invoice .",
              "pandoc report.md -o report.pdf", "xdg-open report.pdf",
              "cp report.pdf ~/Documents/reports", "less todo.md", "vim todo.md",
              "wc -w report.md"],
    "data": ["cd ~/research/survey", "source .venv/bin/activate", "jupyter lab",
             "python clean.py data/raw.csv", "head -n 20 data/clean.csv",
             "csvstat data/clean.csv", "python plots.py --out figures", "ls figures",
             "du -sh data", "python -m pip install pandas"],
    "backup": ["cd ~/Pictures", "rsync -av ~/Pictures /mnt/backup/pictures",
               "rsync -av ~/Documents /mnt/backup/documents", "tar czf /mnt/backup/etc.tgz /etc",
               "ls -lh /mnt/backup", "sudo mount /dev/sdb1 /mnt/backup",
               "sudo umount /mnt/backup", "df -h /mnt/backup", "find ~/Downloads -mtime +30",
               "du -sh ~/Downloads"],
}  # fmt: skip


def seven_routine_history(seed: int = 0) -> tuple[list[str], list[str]]:
    """(commands, routine of each): ~200 lines, each of ``SEVEN_ROUTINES`` sat at twice (its
    first command first, ``exit`` last after ssh), the second round in reverse order."""
    rng = np.random.default_rng(seed)
    cmds: list[str] = []
    truth: list[str] = []
    names = list(SEVEN_ROUTINES)
    for sitting in range(2):
        for name in names if sitting == 0 else names[::-1]:
            steps = SEVEN_ROUTINES[name]
            last = [steps[-1]] if steps[0].startswith("ssh") else []
            body = steps[1 : len(steps) - len(last)]
            seq = [steps[0]] + [body[int(i)] for i in rng.integers(0, len(body), 13 - len(last))]
            cmds += seq + last
            truth += [name] * (len(seq) + len(last))
    return cmds, truth


def test_a_200_line_history_of_seven_routines_gives_named_patterns_none_for_everything(
    tmp_path: Path,
):
    """Seven routines, each sat at twice (its first command first, ``exit`` last after ssh):
    at least four named patterns, none over half the lines, none a catch-all (each is one or
    two routines, but for a few lines)."""
    cmds, truth = seven_routine_history()
    assert 190 <= len(cmds) <= 210
    result = import_and_analyse(tmp_path, cmds)
    named = {p.cluster_label: p.name for p in result.patterns}
    assert len(named) >= 4 and all(n.strip() for n in named.values()), named
    labels = result.consensus_labels
    t = np.array(truth)
    for c in named:
        counts = Counter(t[labels == c].tolist())
        top_two = sum(n for _, n in counts.most_common(2))
        assert top_two >= 0.9 * sum(counts.values()), (named[c], counts)
    assert np.bincount(labels[labels >= 0]).max() <= 0.5 * len(labels)
    # named by what they did (tools, folders, hosts), never one category for varied work
    assert len(set(named.values())) == len(named), named
    for name in named.values():
        assert not name.startswith(("Coding", "System administration", "Shell work")), named
    tools = {c.split()[0] for steps in SEVEN_ROUTINES.values() for c in steps}
    folders = {c.split()[1] for steps in SEVEN_ROUTINES.values() for c in steps if c[:3] == "cd "}
    for name in named.values():
        assert set(name.split()) & (tools | folders), name
    # the ssh deploys, sat at twice with other work between: a routine, named by its host
    deploy = Counter(labels[t == "deploy"].tolist()).most_common(1)[0]
    assert deploy[0] in named and deploy[1] >= 0.9 * np.sum(t == "deploy"), named
    assert named[deploy[0]].endswith(" on web01"), named


def _tool_units(plan: list[tuple[str, int]]):
    """Units of 10 commands each, in this order: (its main tool or "", its pattern); every unit
    also lists files and reads them, and a main tool is 4 of its 10 commands."""
    from selflow_qt.analyze.families import unit_tools

    tokens, inverse, units = [], [], []
    for u, (tool, _) in enumerate(plan):
        verbs = ["ls", "cat", "cd", "ls", "cat", "nmap"] + [tool or "ls"] * 4
        for v in verbs:
            tokens.append(["act:shell/command", f"verb:{v}"])
            inverse.append(len(tokens) - 1)
            units.append(u)
    counts, sizes = unit_tools(np.array(units), np.array(inverse), tokens)
    return np.array([c for _, c in plan]), counts, sizes


def test_a_small_tool_family_inside_a_pattern_gets_its_own():
    """Six units of one pattern: three of them (separate sittings) work mostly with sqlmap,
    which the other three never run: two patterns, one of them the sqlmap units."""
    from selflow_qt.analyze.families import split_families

    plan = [("", 0), ("sqlmap", 0), ("", 0), ("john", 1), ("sqlmap", 0), ("", 0), ("sqlmap", 0)]
    labels, counts, sizes = _tool_units(plan)
    out, parent = split_families(labels, [0, 1], counts, sizes)
    sqlmap = [i for i, (t, _) in enumerate(plan) if t == "sqlmap"]
    rest = [i for i, (t, c) in enumerate(plan) if c == 0 and t != "sqlmap"]
    assert len(set(out[sqlmap].tolist())) == 1 and len(set(out[rest].tolist())) == 1
    assert out[sqlmap[0]] != out[rest[0]] and out[3] == 1
    assert parent == {int(out[sqlmap[0]]): 0}


def test_a_tool_the_whole_pattern_uses_or_one_sitting_holds_splits_nothing():
    from selflow_qt.analyze.families import split_families

    # every unit of the pattern runs sqlmap: one family
    labels, counts, sizes = _tool_units([("sqlmap", 0)] * 6)
    assert split_families(labels, [0], counts, sizes)[0].tolist() == [0] * 6
    # the sqlmap units are one sitting (two in a row): not a routine of their own
    labels, counts, sizes = _tool_units([("", 0), ("sqlmap", 0), ("sqlmap", 0), ("", 0), ("", 0)])
    assert split_families(labels, [0], counts, sizes)[0].tolist() == [0] * 5
