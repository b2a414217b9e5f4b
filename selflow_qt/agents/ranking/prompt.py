"""Suggestions at the shell prompt, and how many keystrokes they save.

A prompt suggestion is one whole command line that starts with what the user has typed (ghost
text). ``keys_saved_on`` simulates a user on one line: at the start and after each space they
look at the suggestion and accept it the first time it is the line they mean.

``ShellHistory`` is the typed history as a shell keeps it; ``ZshHistory`` and ``ZshMatchPrev``
are zsh-autosuggestions' own two strategies (``history``: the most recent line with the prefix;
``match_prev_cmd``: the most recent such line whose preceding line equals the last command),
as predictors, so SelFlow is measured against what people use today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from selflow_qt.agents.ranking.actions import (
    Candidate,
    action_key,
    candidate_full,
    command_shape,
    full_key,
)
from selflow_qt.agents.ranking.line_scorer import LineScorer, prefix_points
from selflow_qt.agents.ranking.predictors import Context
from selflow_qt.core.event import Event

SHELL_PREFIX = "shell run "


def line_of(full: str | None) -> str | None:
    """The typed command line of an exact action (``full_key``), None for other kinds."""
    if full and full.startswith(SHELL_PREFIX):
        return full[len(SHELL_PREFIX) :]
    return None


def event_line(ev: Event) -> str | None:
    return line_of(full_key(ev))


def keys_saved_on(line: str, suggest: Callable[[str], str | None]) -> int:
    """Characters not typed on ``line`` when its first exact suggestion is accepted."""
    for p in prefix_points(line):
        if suggest(line[:p]) == line:
            return len(line) - p
    return 0


def first_with_prefix(lines: Iterable[str | None], typed: str) -> str | None:
    """The first line that starts with ``typed`` and is longer than it."""
    for line in lines:
        if line and line.startswith(typed) and len(line) > len(typed):
            return line
    return None


class ShellHistory:
    """Command lines in the order typed, newest last, with each line's predecessor."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self.lines: list[str] = []
        for line in lines:
            self.add(line)

    def add(self, line: str | None) -> None:
        if line:
            self.lines.append(line)

    def newest_first(self) -> Iterable[str]:
        return reversed(self.lines)

    def most_recent(self, typed: str) -> str | None:
        return first_with_prefix(self.newest_first(), typed)

    def most_recent_after(self, typed: str, previous: str | None) -> str | None:
        """The most recent line with the prefix that followed ``previous`` (zsh match_prev_cmd)."""
        if previous is None:
            return None
        lines = self.lines
        for i in range(len(lines) - 1, 0, -1):
            line = lines[i]
            if lines[i - 1] == previous and line.startswith(typed) and len(line) > len(typed):
                return line
        return None


def _candidate(line: str, ev: Event | None, score: float) -> Candidate:
    key = (action_key(ev) if ev is not None else None) or f"{SHELL_PREFIX}{line.split()[0]}"
    return Candidate(key=key, score=score, example=ev, extra={"full": SHELL_PREFIX + line})


class ZshHistory:
    """zsh-autosuggestions' ``history`` strategy: the most recent line that starts with the
    prefix (at an empty prompt: the last line)."""

    name = "zsh-history"

    def __init__(self, stream: Context = ()) -> None:
        self.history = ShellHistory()
        self.example: dict[str, Event] = {}
        self.observe(stream)

    def observe(self, stream: Context) -> None:
        for ev, _ in stream:
            line = event_line(ev)
            if line:
                self.history.add(line)
                self.example[line] = ev

    def suggest(self, context: Context, typed: str) -> str | None:
        return self.history.most_recent(typed)

    def predict(self, context: Context, k: int) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[str] = set()
        for line in self.history.newest_first():
            if line in seen:
                continue
            seen.add(line)
            out.append(_candidate(line, self.example.get(line), 1.0 / (len(out) + 1)))
            if len(out) >= k:
                break
        return out


class ZshMatchPrev(ZshHistory):
    """zsh-autosuggestions' ``match_prev_cmd`` strategy: the most recent line with the prefix
    whose preceding line equals the last command, else as ``history``."""

    name = "zsh-match-prev"

    def suggest(self, context: Context, typed: str) -> str | None:
        previous = _last_line(context)
        return self.history.most_recent_after(typed, previous) or self.history.most_recent(typed)

    def predict(self, context: Context, k: int) -> list[Candidate]:
        first = self.suggest(context, "")
        rest = super().predict(context, k + 1)
        if first is None:
            return rest[:k]
        head = _candidate(first, self.example.get(first), 2.0)
        return [head, *[c for c in rest if c.extra["full"] != head.extra["full"]]][:k]


def _last_line(context: Context) -> str | None:
    for ev, _ in reversed(list(context)):
        line = event_line(ev)
        if line:
            return line
    return None


def suggest_from_candidates(
    candidates: Sequence[Candidate], typed: str, fallback: ShellHistory | None = None
) -> str | None:
    """The best-ranked candidate line that starts with ``typed``; else, with a fallback
    history, its most recent line with that prefix (what ghost text shows when the ranking
    has nothing for this prefix)."""
    line = first_with_prefix((line_of(candidate_full(c)) for c in candidates), typed)
    if line is None and fallback is not None:
        line = fallback.most_recent(typed)
    return line


def zsh_predictors(stream: Context = ()) -> dict[str, ZshHistory]:
    """zsh-autosuggestions' two strategies, each fitted on ``stream`` (the history so far)."""
    return {p.name: p for p in (ZshHistory(stream), ZshMatchPrev(stream))}


class PromptAgent:
    """A micro-agent at the prompt: its ranking of next actions made into whole typed lines.

    The ghost text is ``LineScorer``'s best line for what is typed: the lines the user typed
    before (and the last one counted up), scored on recency, frequency, what followed the last
    lines, folder, session and the agent's own ranking of each line's action, with weights
    learned online on every line typed. ``predict`` (and so hit@k) is the agent's own.
    """

    def __init__(self, agent, stream: Context = ()) -> None:
        self.agent = agent
        self.name = getattr(agent, "name", "agent")
        self.scorer = LineScorer()
        self.key_of: dict[str, str] = {}
        self.tail: list = []
        self._ranks: tuple[int, Callable[[str], float]] | None = None
        self._learn_lines(stream, judge=False)

    # -- the predictor interface -----------------------------------------------------------
    def predict(self, context: Context, k: int) -> list[Candidate]:
        return self.agent.predict(context, k)

    def observe(self, stream: Context) -> None:
        self._learn_lines(stream, judge=True)
        self.agent.observe(stream)

    def suggest(self, context: Context, typed: str) -> str | None:
        """The ghost text for ``typed``: the scorer's best line that extends it."""
        return self.scorer.suggest(typed, self._agent_rank(context))

    # -- the agent's view of each line ----------------------------------------------------------
    def _agent_rank(self, context: Context):
        """The agent's rank of a line's action, one function per line typed (the same one each
        time, so the scorer can remember what it suggested with it)."""
        n = len(self.scorer.lines)
        if self._ranks is None or self._ranks[0] != n:
            ranked = self.agent.predict(list(context)[-CONTEXT_LINES:], KEYS_RANKED)
            ranks: dict[str, float] = {}
            for i, c in enumerate(ranked):
                ranks.setdefault(c.key, 1.0 / (i + 1))
            self._ranks = (n, lambda line: ranks.get(self._key(line), 0.0))
        return self._ranks[1]

    def _key(self, line: str) -> str:
        key = self.key_of.get(line)
        return key if key is not None else f"{SHELL_PREFIX}{command_shape(line)}"

    def _learn_lines(self, stream: Context, *, judge: bool) -> None:
        for item in stream:
            ev, key = item
            line = event_line(ev)
            if line:
                rank = self._agent_rank(self.tail) if judge else None
                self.scorer.observe(
                    line,
                    folder=ev.cwd,
                    session=(ev.meta or {}).get("session"),
                    ts=ev.ts,
                    agent_rank=rank,
                )
                self.key_of[line] = key
            self.tail.append(item)
            if len(self.tail) > 2 * CONTEXT_LINES:
                del self.tail[:CONTEXT_LINES]


CONTEXT_LINES = 20  # the recent events the agent is asked with
KEYS_RANKED = 20  # the agent's ranked actions a line's rank is looked up in
