"""The learned line scorer behind the prompt's ghost text."""

from __future__ import annotations

from selflow_qt.agents.ranking.line_scorer import FEATURES, LineScorer, counted_up


def test_counting_up_changes_one_short_number_at_a_time():
    assert counted_up("cat part-2.data") == ["cat part-3.data"]
    assert counted_up("head -n 9 log") == ["head -n 10 log"]
    assert counted_up("ls") == []
    assert counted_up("echo 123456") == []  # long numbers (ids, dates) are not counters


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


def test_before_any_learning_it_is_zsh_autosuggestions():
    s = LineScorer()
    for line in ["make", "./run", "ls", "make", "./test", "vim a", "ls"]:
        s.observe(line, folder="/w", learn=False)
    assert s.suggest("") == "ls"  # the most recent line...
    s.observe("make", folder="/w", learn=False)
    assert s.suggest("./") == "./test"  # ...or the latest that followed the last command


def test_the_ready_list_holds_the_best_line_at_an_empty_prompt_and_after_each_first_word():
    s = LineScorer()
    for line in ["git status", "make test", "git push", "make", "git status"]:
        s.observe(line, folder="/w")
    lines = s.ready_lines(2)
    assert lines[0] == s.suggest("")
    assert s.suggest("git ") in lines and s.suggest("make ") in lines
