"""Untimed bash histories made of real sessions: do their patterns follow what was done?

    .venv/bin/python bench/untimed_history.py [--games FILE] [--sea FILE --sea-users 21 35 50]

Games (default ../shared/data/training-games-4.jsonl.gz): students' whole sessions in four
hands-on training games. Each history puts sessions of different games one after another, drops
every timestamp and working folder and writes the command lines as a plain bash history (one
command a line, as ``~/.bash_history`` without HISTTIMEFORMAT). Each is imported with
``selflow import shell`` into a fresh --data-dir, analysed with ``selflow analyze`` and exported
with ``selflow export jsonl``; every line's pattern is then compared with the game it came from.

Reported per history: lines, patterns, games with a pattern of their own (a pattern whose lines
are mostly that game), the largest pattern's share of the lines, and the homogeneity of the
patterns against the games (``sklearn.metrics.homogeneity_score``; lines in no pattern count as
one more group), and the same over the lines in a pattern only; the workflow units the analysis
cut (``units.build_units``) and their homogeneity against the games, which bounds any clustering
of them. Must show: every game has a pattern, none holds over half the lines, and homogeneity
>= 0.6. ``--shuffles N``: N random orders of all sessions (seeds 0..N-1), to see how much the
numbers move with the order alone.

SEA (``--sea``, default ../shared/data/sea-users21-50.jsonl.gz): a few users' streams
(bare command names, synthetic even times) imported as JSON Lines and analysed; their pattern
counts, to compare before and after a change. ``--sea-mixes N``: N untimed histories made of
SEA users as the games are (seed i: ``SEA_USERS`` users drawn at random, each user's first
``SEA_BLOCKS`` blocks of 100 commands, the blocks shuffled), imported with ``selflow import
shell`` and scored the same way against the users.

A summary line gives the mean and the smallest homogeneity over the shuffled orders.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
DATA = HERE.parent.parent / "shared" / "data"


def load_sessions(path: Path) -> list[tuple[str, list[str]]]:
    """(game, command lines) of every session, in the file's order."""
    sessions: dict[tuple[str, object], list[str]] = defaultdict(list)
    with gzip.open(path, "rt") as f:
        for line in f:
            e = json.loads(line)
            cmd = " ".join((e.get("cmd") or "").split())  # one line each, as bash writes it
            if cmd:
                sessions[(e["meta"]["game"], e["meta"]["session"])].append(cmd)
    return [(game, cmds) for (game, _), cmds in sessions.items()]


def interleave(sessions: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Round robin over the games: a session of each game, then the next of each, ..."""
    by_game: dict[str, list] = defaultdict(list)
    for s in sessions:
        by_game[s[0]].append(s)
    out = []
    for i in range(max(len(v) for v in by_game.values())):
        out += [v[i] for v in by_game.values() if i < len(v)]
    return out


def histories(
    sessions: list[tuple[str, list[str]]], seeds: range | list[int] = range(1)
) -> dict[str, list[tuple[str, list[str]]]]:
    """The histories the bench builds: different games' sessions one after another
    (``seeds``: a random order of all sessions for each)."""
    orders = {}
    for seed in seeds:
        perm = np.random.default_rng(seed).permutation(len(sessions))
        name = "all sessions, shuffled" + (f" (seed {seed})" if seed else "")
        orders[name] = [sessions[i] for i in perm]
    games = sorted({g for g, _ in sessions})
    # like the report: ~1,000 lines, nine sessions of three routines
    three = [s for s in interleave(sessions) if s[0] in games[:2] + games[3:4]]
    small, n = [], 0
    for s in three:
        if n >= 1000 or len(small) >= 9:
            break
        small.append(s)
        n += len(s[1])
    return {
        "all sessions, games in turn": interleave(sessions),
        **orders,
        "nine sessions, three games": small,
    }


SEA_USERS = 4
SEA_BLOCKS = 10
SEA_BLOCK = 100


def sea_histories(path: Path, count: int) -> dict[str, list[tuple[str, list[str]]]]:
    """``count`` histories of SEA users' blocks, shuffled (see the module docstring)."""
    by_user: dict[str, list[str]] = defaultdict(list)
    with gzip.open(path, "rt") as f:
        for line in f:
            e = json.loads(line)
            by_user[e["meta"]["user"]].append(e["cmd"])
    users = sorted(by_user)
    out = {}
    for seed in range(count):
        rng = np.random.default_rng(seed)
        picked = [users[i] for i in sorted(rng.choice(len(users), SEA_USERS, replace=False))]
        blocks = [
            (u, by_user[u][b * SEA_BLOCK : (b + 1) * SEA_BLOCK])
            for u in picked
            for b in range(SEA_BLOCKS)
        ]
        out[f"SEA {', '.join(picked)} (seed {seed})"] = [
            blocks[i] for i in rng.permutation(len(blocks))
        ]
    return out


def run_cli(*argv: str) -> str:
    from selflow_qt.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(list(argv))
    if rc != 0:
        raise RuntimeError(f"selflow {' '.join(argv)} -> rc {rc}\n{out.getvalue()}")
    return out.getvalue()


def units_of(data: Path) -> list[int]:
    """Each stored event's workflow unit (time order, as the export writes them), cut as the
    analysis cuts them: what any clustering of these units is bounded by."""
    from selflow_qt.analyze.dataset import load_events
    from selflow_qt.analyze.features import build_features
    from selflow_qt.analyze.units import build_units
    from selflow_qt.store.db import connect

    db = connect(data / "selflow.db")
    try:
        t = load_events(db)
    finally:
        db.close()
    fs = build_features(t, matrix=False)
    units = build_units(t.ids, t.ts, fs.inverse, fs.signature_tokens, t.cmd)
    return units.of_event[np.argsort(t.ids, kind="stable")].tolist()


def analysed(lines: list[str], workdir: Path) -> list[tuple[str, str | None, int]]:
    """(command, pattern name or None, workflow unit) of each imported line, in the history's
    order."""
    hist = workdir / ".bash_history"
    hist.write_text("".join(f"{c}\n" for c in lines), encoding="utf-8")
    data = str(workdir / "data")
    run_cli("--data-dir", data, "import", "shell", str(hist))
    run_cli("--data-dir", data, "analyze")
    out = workdir / "events.jsonl"
    run_cli("--data-dir", data, "export", "jsonl", "-o", str(out))
    units = units_of(Path(data))
    rows = []
    for line, unit in zip(out.read_text(encoding="utf-8").splitlines(), units, strict=True):
        e = json.loads(line)
        p = (e.get("meta") or {}).get("pattern")
        rows.append((e["cmd"], p["name"] if p else None, unit))
    return rows


def align(lines: list[str], games: list[str], rows: list[tuple]) -> list[str]:
    """Each exported event's game: lines in order (a line the privacy filter dropped is skipped;
    a redacted one still takes its place)."""
    out, i = [], 0
    for cmd, *_ in rows:
        j = i
        while j < len(lines) and lines[j] != cmd and "[REDACTED]" not in cmd:
            j += 1
        if j == len(lines):  # not found: keep order
            j = i
        out.append(games[min(j, len(games) - 1)])
        i = j + 1
    return out


def score(games: list[str], patterns: list[str | None], units: list[int]) -> dict:
    from sklearn.metrics import homogeneity_score

    named = [p or "(none)" for p in patterns]
    n = len(games)
    sizes = Counter(p for p in patterns if p)
    majority = {}
    for p in sizes:
        majority[p] = Counter(g for g, q in zip(games, patterns, strict=True) if q == p)
    covered = {c.most_common(1)[0][0] for c in majority.values()}
    return {
        "lines": n,
        "patterns": len(sizes),
        "games": len(set(games)),
        "covered": len(covered & set(games)),
        "largest": max(sizes.values()) / n if sizes else 0.0,
        "none": sum(p is None for p in patterns) / n,
        "homogeneity": homogeneity_score(games, named),
        "homogeneity_in": homogeneity_score(
            [g for g, p in zip(games, patterns, strict=True) if p],
            [p for p in patterns if p],
        )
        if sizes
        else 0.0,
        "units": len(set(units)),
        "homogeneity_units": homogeneity_score(games, units),
        "majority": majority,
    }


def sea(path: Path, users: list[int]) -> None:
    print("\nSEA users (bare command names, synthetic even times): patterns per user")
    print("| user | events | patterns | largest share | seconds |\n|---|--:|--:|--:|--:|")
    by_user: dict[str, list[str]] = defaultdict(list)
    with gzip.open(path, "rt") as f:
        for line in f:
            e = json.loads(line)
            by_user[e["meta"]["user"]].append(line)
    picks = [(f"sea{u}", by_user[f"sea{u}"]) for u in users]
    picks.append((f"all {len(by_user)} users", [x for v in by_user.values() for x in v]))
    for name, records in picks:
        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "user.jsonl"
            src.write_text("".join(records), encoding="utf-8")
            data = str(Path(d) / "data")
            t0 = time.perf_counter()
            run_cli("--data-dir", data, "import", "jsonl", str(src))
            run_cli("--data-dir", data, "analyze")
            out = Path(d) / "out.jsonl"
            run_cli("--data-dir", data, "export", "jsonl", "-o", str(out))
            pats = [
                ((json.loads(x).get("meta") or {}).get("pattern") or {}).get("name")
                for x in out.read_text().splitlines()
            ]
            sizes = Counter(p for p in pats if p)
            share = max(sizes.values()) / len(pats) if sizes else 0.0
            dt = time.perf_counter() - t0
            print(f"| {name} | {len(pats)} | {len(sizes)} | {share:.2f} | {dt:.0f} |")


def _seed_range(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=Path, default=DATA / "training-games-4.jsonl.gz")
    ap.add_argument("--sea", type=Path, default=None, help="also the SEA users' pattern counts")
    ap.add_argument("--sea-users", type=int, nargs="+", default=[21, 35, 50])
    ap.add_argument("--show", action="store_true", help="each pattern's games")
    ap.add_argument("--shuffles", type=int, default=1, help="random orders of all sessions")
    ap.add_argument(
        "--seeds", type=_seed_range, default=None, help="the orders' seeds, FIRST-LAST (20-29)"
    )
    ap.add_argument("--sea-mixes", type=int, default=0, help="untimed histories of SEA users")
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)

    sessions = load_sessions(args.games)
    print(
        "| history | lines | patterns | games with a pattern | largest pattern | in no pattern "
        "| homogeneity | homogeneity in patterns | units | unit homogeneity | pass | seconds |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"
    )
    todo = histories(sessions, args.seeds or range(args.shuffles))
    if args.sea_mixes:
        todo |= sea_histories(args.sea or DATA / "sea-users21-50.jsonl.gz", args.sea_mixes)
    shuffled: list[float] = []
    mixed: list[float] = []
    for name, picked in todo.items():
        lines = [c for _, cmds in picked for c in cmds]
        games = [g for g, cmds in picked for _ in cmds]
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d:
            rows = analysed(lines, Path(d))
        dt = time.perf_counter() - t0
        s = score(align(lines, games, rows), [r[1] for r in rows], [r[2] for r in rows])
        ok = s["covered"] == s["games"] and s["largest"] <= 0.5 and s["homogeneity"] >= 0.6
        print(
            f"| {name} ({len(picked)} sessions) | {s['lines']} | {s['patterns']} "
            f"| {s['covered']} of {s['games']} | {s['largest']:.0%} | {s['none']:.0%} "
            f"| {s['homogeneity']:.2f} | {s['homogeneity_in']:.2f} | {s['units']} "
            f"| {s['homogeneity_units']:.2f} | {'yes' if ok else 'NO'} "
            f"| {dt:.0f} |"
        )
        if "shuffled" in name:
            shuffled.append(s["homogeneity"])
        elif name.startswith("SEA"):
            mixed.append(s["homogeneity"])
        if args.show:
            for p, c in sorted(s["majority"].items(), key=lambda kv: -sum(kv[1].values())):
                print(f"    {p}: {dict(c.most_common())}")
    for what, hs in (("shuffled orders", shuffled), ("SEA mixes", mixed)):
        if hs:
            print(f"\nhomogeneity over {len(hs)} {what}: mean {np.mean(hs):.2f}, min {min(hs):.2f}")
    if args.sea is not None:
        sea(args.sea, args.sea_users)


if __name__ == "__main__":
    main()
