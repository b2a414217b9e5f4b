"""The learned line scorer behind the prompt's ghost text."""

from __future__ import annotations

import numpy as np

from selflow_qt.agents.ranking.line_scorer import FEATURES, LineScorer, counted_on, counted_up


def test_counting_up_changes_one_short_number_at_a_time():
    assert counted_up("cat part-2.data") == ["cat part-3.data"]
    assert counted_up("head -n 9 log") == ["head -n 10 log"]
    assert counted_up("ls") == []
    assert counted_up("echo 123456") == []  # long numbers (ids, dates) are not counters


def test_counting_on_repeats_the_step_of_the_one_number_that_changed():
    assert counted_on("cat part-18.data", "cat part-19.data") == "cat part-17.data"
    assert counted_on("nmap -p 8082 host", "nmap -p 8080 host") == "nmap -p 8084 host"
    assert counted_on("cat part-0.data", "cat part-1.data") is None  # no -1
    assert counted_on("cp a1 b2", "cp a2 b3") is None  # two numbers changed
    assert counted_on("cat part-3.data", "less part-2.data") is None  # not the same line
    assert counted_on("cat part-3.data", "cat part-3.data") is None  # nothing changed


def test_it_learns_to_count_down_a_sequence_going_down():
    """Someone who reads numbered files from the last one back: the ghost text is the file
    before, a line never typed (counting up alone offers the one just read after)."""
    s = LineScorer()
    for name in ["alpha", "beta", "gamma", "delta", "omega", "kappa"]:
        s.observe(f"cd {name}", folder="/data")
        for i in range(9, 2, -1):
            s.observe(f"less {name}-{i}.log", folder=f"/data/{name}")
    s.observe("cd sigma", folder="/data")
    for i in (9, 8):
        s.observe(f"less sigma-{i}.log", folder="/data/sigma")
    assert s.suggest("") == "less sigma-7.log"
    assert "less sigma-7.log" not in s.uses  # never typed
    assert s.weights[False][FEATURES.index("counted_on")] > 0


def test_what_is_typed_narrows_the_lines_and_an_empty_history_suggests_nothing():
    s = LineScorer()
    assert s.suggest("") is None
    for line in ["git status", "make", "git push"]:
        s.observe(line, folder="/w")
    assert s.suggest("git s") == "git status"
    assert s.suggest("cargo ") is None
    assert s.suggest("make") is None  # only lines longer than what is typed


def test_it_learns_a_habit_no_zsh_strategy_has_and_proposes_a_line_never_typed():
    """Someone who reads numbered files in turn: after learning, the ghost text is the next
    file, a line never typed, where zsh-autosuggestions can only offer lines typed before."""
    s = LineScorer()
    for name in ["alpha", "beta", "gamma", "delta", "omega", "kappa"]:
        s.observe(f"cd {name}", folder="/data")
        for i in range(1, 7):
            s.observe(f"less {name}-{i}.log", folder=f"/data/{name}")
    s.observe("cd sigma", folder="/data")
    for i in range(1, 3):
        s.observe(f"less sigma-{i}.log", folder="/data/sigma")
    assert s.suggest("") == "less sigma-3.log"
    assert "less sigma-3.log" not in s.uses  # never typed
    assert s.weights[False][FEATURES.index("counted_up")] > 0


def test_before_any_learning_it_is_zsh_autosuggestions_among_lines_of_a_length():
    s = LineScorer()
    for line in ["make", "./run", "vim b", "make", "./test", "vim a", "vim b"]:
        s.observe(line, folder="/w", learn=False)
    assert s.suggest("") == "vim b"  # the most recent line...
    s.observe("make", folder="/w", learn=False)
    assert s.suggest("./") == "./test"  # ...or the latest that followed the last command


def test_the_ready_list_holds_the_best_line_at_an_empty_prompt_and_after_each_first_word():
    s = LineScorer()
    for line in ["git status", "make test", "git push", "make", "git status"]:
        s.observe(line, folder="/w")
    lines = s.ready_lines(2)
    assert lines[0] == s.suggest("")
    assert s.suggest("git ") in lines and s.suggest("make ") in lines


def test_when_nothing_ever_followed_the_last_line_the_newest_and_the_repeat_are_marked():
    """zsh-autosuggestions' match_prev_cmd falls back to the most recent line when no line ever
    followed the last command; the scorer sees that case apart, so it can learn it."""
    s = LineScorer()
    for line in ["make", "git status", "make", "vim a", "make"]:
        s.observe(line, folder="/w", learn=False)
    cands = s.candidates("")
    x = s.features(cands, "")
    fallback = FEATURES.index("newest_no_follower")
    again = FEATURES.index("repeat_no_follower")
    assert x[:, fallback].sum() == 0 and x[:, again].sum() == 0  # 'make' has followers
    s.observe("ls -la", folder="/w", learn=False)  # a line typed for the first time
    cands = s.candidates("")
    x = s.features(cands, "")
    assert x[cands.index("ls -la"), fallback] == 1 and x[:, fallback].sum() == 1
    assert x[cands.index("ls -la"), again] == 1 and x[:, again].sum() == 1


def test_a_line_passed_by_at_an_earlier_point_is_not_offered_again():
    """Who wanted the line shown at the empty prompt would have taken it there: right after a
    space, where they look again, the ghost text is the best of the other lines; typing on in a
    word ranks all of them again."""
    s = LineScorer()
    for line in ["git push origin", "make", "git status"]:
        s.observe(line, folder="/w", learn=False)
    assert s.suggest("") == "git status"
    assert s.suggest("git ") == "git push origin"
    assert s.suggest("git st") == "git status"
    assert s.suggest("make") is None and s.suggest("m") == "make"  # nothing passed by there


def test_between_lines_rated_alike_the_ghost_text_is_the_one_that_saves_more_typing():
    """The ghost text is worth the characters it saves: a line as likely as another but twice
    as long to type is the better suggestion."""
    s = LineScorer()
    for line in ["ls", "git status --short", "make"]:
        s.observe(line, folder="/w", learn=False)
    s.weights = {typed: np.zeros(len(FEATURES)) for typed in (False, True)}
    assert s.suggest("") == "git status --short"
    assert s.ready_lines(3)[:3] == ["git status --short", "make", "ls"]


def test_at_an_empty_prompt_a_line_of_one_word_beats_a_longer_line_it_can_offer_later():
    """A line of several words can still be offered after its first word; a one-word line only
    at the empty prompt. Between lines rated alike, the empty prompt shows the one-word line
    though the other is longer, and the other comes after its first word."""
    s = LineScorer()
    for line in ["ls", "git push origin main", "make-release-build"]:
        s.observe(line, folder="/w", learn=False)
    s.weights = {typed: np.zeros(len(FEATURES)) for typed in (False, True)}
    assert s.suggest("") == "make-release-build"
    assert s.suggest("git ") == "git push origin main"


def test_the_candidates_are_the_followers_then_the_newest_lines_that_fit():
    """Read from the lines in the order last typed (not a sort of every line that fits, at each
    look): the same candidates, in the same order, as sorting them by (follows the last line,
    recency), at an empty prompt and after prefixes that many, few or no lines fit, on a stream
    where lines repeat and new ones keep coming."""
    import random

    from selflow_qt.agents.ranking.line_scorer import MAX_CANDIDATES

    rng = random.Random(9)
    common = ["ls", "git status", "git diff", "make", "cd ..", "vim notes.txt"]
    scorer = LineScorer()
    for i in range(1500):
        line = rng.choice(common) if rng.random() < 0.5 else f"cat part{rng.randrange(300)}.txt"
        scorer.observe(line, learn=False)
        if i % 50 == 0 and len(scorer.last) > MAX_CANDIDATES:
            followers = scorer.after.get(scorer.context()["prev"], {})
            for typed in ("", "c", "cat part1", "git ", "git s", "vim notes.txt"):
                fit = [s for s in scorer.last if len(s) > len(typed) and s.startswith(typed)]
                if len(fit) > MAX_CANDIDATES:
                    fit.sort(key=lambda s: (s in followers, scorer.last[s]), reverse=True)
                    fit = fit[:MAX_CANDIDATES]
                got = scorer.candidates(typed)
                assert got[: len(fit)] == fit, (i, typed)
                assert all(c not in scorer.last for c in got[len(fit) :]), (i, typed)


def test_the_counted_lines_come_in_the_same_order_whatever_the_hash_seed():
    """The counted-up and counted-on lines were read from sets: which of two equal-scored lines
    the ghost text showed changed with the interpreter's hash seed (PYTHONHASHSEED)."""
    import os
    import subprocess
    import sys

    code = (
        "from selflow_qt.agents.ranking.line_scorer import LineScorer\n"
        "s = LineScorer()\n"
        "for line in ('cp part-3 out-7', 'cp part-4 out-8'):\n"
        "    s.observe(line, folder='~', session='a', ts=1.0)\n"
        "print(s.candidates('cp '))\n"
    )
    outs = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outs.add(run.stdout)
    assert len(outs) == 1, outs
