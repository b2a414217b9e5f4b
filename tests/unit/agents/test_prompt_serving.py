"""The shells' ready files: each open shell gets the lines for its own place."""

from __future__ import annotations

from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.serving.prompt_serving import PromptSuggestions, suggestion_file
from selflow_qt.agents.serving.serving import SuggestionService
from selflow_qt.core.event import Event
from selflow_qt.store.db import open_database


def _events(rows, t0):
    return keyed(
        [
            Event(
                ts=t0 + i,
                source="shell",
                action="command",
                cmd=cmd,
                cwd=cwd,
                meta={"session": session},
            )
            for i, (session, cmd, cwd) in enumerate(rows)
        ]
    )


def test_two_shells_open_each_get_what_follows_their_own_last_command(tmp_path):
    """Shell a just ran `make`, shell b `git add .`, interleaved: a's file starts with what
    followed make before, b's with what followed git add (the newest line overall is b's)."""
    data_dir = tmp_path / "data"
    open_database(data_dir).close()
    service = SuggestionService(data_dir)
    prompt = PromptSuggestions(service, tmp_path / "spool")
    habit = []
    for _ in range(10):
        habit += [("old", "make", "/src"), ("old", "./run-tests", "/src")]
        habit += [("old", "git add .", "/src"), ("old", "git commit -m wip", "/src")]
    now = service.clock()
    prompt._on_events(_events(habit, now - 7200))  # a shell closed long ago
    prompt._on_events(_events([("a", "make", "/src"), ("b", "git add .", "/src")], now - 10))
    assert prompt.refresh() == ["a", "b"]
    first = {s: suggestion_file(tmp_path / "spool", s).read_text().splitlines()[0] for s in "ab"}
    assert first == {"a": "./run-tests", "b": "git commit -m wip"}
