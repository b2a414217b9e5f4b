"""Suggestions at the prompt: keystrokes saved, zsh-autosuggestions' strategies, the agent's."""

from __future__ import annotations

from selflow_qt.agents.evaluation.evaluation import evaluate_offline
from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.ranking.predictors import make_baselines
from selflow_qt.agents.ranking.prompt import (
    PromptAgent,
    ZshHistory,
    ZshMatchPrev,
    keys_saved_on,
    prefix_points,
)
from selflow_qt.agents.ranking.ranking_agent import fit_ranking_agent
from selflow_qt.core.event import Event
from tests.support.agent_streams import folder_stream


def _stream(lines: list[str]) -> list:
    return keyed(
        [
            Event(ts=1_700_000_000.0 + i, source="shell", action="command", cmd=c, cwd="/w")
            for i, c in enumerate(lines)
        ]
    )


def test_a_user_looks_at_the_start_and_after_each_space():
    assert prefix_points("git commit -m x") == [0, 4, 11, 14]
    # accepted at the first point where the suggestion is the line
    shown = {"": "ls", "git ": "git commit -m x"}
    assert keys_saved_on("git commit -m x", lambda typed: shown.get(typed)) == 11
    assert keys_saved_on("git commit -m x", lambda typed: "ls") == 0
    assert keys_saved_on("ls", lambda typed: "ls") == 2


def test_zsh_history_suggests_the_most_recent_line_with_the_prefix():
    z = ZshHistory(_stream(["git status", "make", "git push"]))
    assert z.suggest([], "") == "git push"
    assert z.suggest([], "git s") == "git status"
    assert z.suggest([], "cargo ") is None


def test_zsh_match_prev_prefers_what_followed_the_last_command():
    stream = _stream(["make", "./run", "ls", "make", "./test", "vim a", "ls"])
    z = ZshMatchPrev(stream)
    after_make = _stream(["make"])
    assert z.suggest(after_make, "./") == "./test"  # the latest line that followed make
    assert z.suggest(_stream(["cd /"]), "") == "ls"  # no line followed 'cd /': as history


def test_keys_saved_is_reported_for_every_predictor_and_the_agent_leads_on_habits():
    """On a stream where the folder decides the next line, the agent's ghost text saves more
    keystrokes than zsh-autosuggestions' history strategies (which cannot see the folder)."""
    stream = keyed(folder_stream(260, seed=3))
    start = 600
    agent = fit_ranking_agent("agent", stream[:start])
    zsh = {p.name: p for p in (ZshHistory(stream[:start]), ZshMatchPrev(stream[:start]))}
    preds = {**make_baselines(stream[:start]), **zsh, "agent": PromptAgent(agent, stream[:start])}
    m = evaluate_offline(preds, stream, start)
    assert all(0.0 <= x.keys_saved <= 1.0 for x in m.values())
    assert m["agent"].keys_saved > max(m["zsh-history"].keys_saved, m["zsh-match-prev"].keys_saved)


def test_novel_lines_are_counted_apart():
    lines = ["ls", "make", "ls", "make", "ls", "make a", "ls", "make b"]
    stream = _stream(lines)
    m = evaluate_offline(make_baselines(stream[:4]), stream, 4)
    assert m["markov-1"].n_novel == 2  # 'make a' and 'make b' were never typed before
    assert m["markov-1"].hit1_novel == 0.0  # counting can only propose what it has seen
