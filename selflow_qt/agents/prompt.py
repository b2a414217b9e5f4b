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

from selflow_qt.agents.actions import Candidate, action_key, candidate_full, full_key
from selflow_qt.agents.predictors import Context
from selflow_qt.core.event import Event

SHELL_PREFIX = "shell run "


def line_of(full: str | None) -> str | None:
    """The typed command line of an exact action (``full_key``), None for other kinds."""
    if full and full.startswith(SHELL_PREFIX):
        return full[len(SHELL_PREFIX) :]
    return None


def event_line(ev: Event) -> str | None:
    return line_of(full_key(ev))


def prefix_points(line: str) -> list[int]:
    """Where the user looks at the suggestion: the start and after each space."""
    return [0] + [i + 1 for i, ch in enumerate(line) if ch == " " and i + 1 < len(line)]


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

    Three ways to complete a prefix, each a line the user really typed: the lines that followed
    the last one before (most often, then most recently), the agent's ranked actions (each as its
    latest line with the prefix), and the most recent line with the prefix. Which goes first is
    learned online, apart for an empty prompt and for a typed prefix: on every new line each way
    is judged by whether it would have shown that line at each point the user looks (hits decay
    with a half-life of about 70 lines). A stream where habits repeat line by line and one where
    only the action is predictable are each served by what works there. ``predict`` (and so
    hit@k) is the agent's own.
    """

    WAYS = ("after", "agent", "recent")
    DECAY = 0.99

    def __init__(self, agent, stream: Context = ()) -> None:
        self.agent = agent
        self.name = getattr(agent, "name", "agent")
        self.history = ShellHistory()
        self.after: dict[str, dict[str, tuple[int, int]]] = {}  # prev -> line -> (count, last)
        self.lines_of_key: dict[str, list[str]] = {}
        # record[typed?][way]: decayed hits at an empty prompt (False) and after a prefix (True)
        self.record = {typed: dict.fromkeys(self.WAYS, 0.0) for typed in (False, True)}
        self.tail: list = []
        self._learn_lines(stream, judge=False)

    # -- the predictor interface -----------------------------------------------------------
    def predict(self, context: Context, k: int) -> list[Candidate]:
        return self.agent.predict(context, k)

    def observe(self, stream: Context) -> None:
        self._learn_lines(stream, judge=True)
        self.agent.observe(stream)

    def suggest(self, context: Context, typed: str) -> str | None:
        """The ghost text for ``typed``: the first way (in learned order) with a line for it."""
        ranked: list[Candidate] | None = None
        last = _last_line(context)
        record = self.record[bool(typed)]
        for way in sorted(self.WAYS, key=lambda w: -record[w]):
            if way == "agent" and ranked is None:
                ranked = self.agent.predict(context, KEYS_RANKED)
            line = self._by(way, typed, last, ranked or [])
            if line is not None:
                return line
        return None

    # -- the three ways ----------------------------------------------------------------------
    def _by(self, way: str, typed: str, last: str | None, ranked: list[Candidate]) -> str | None:
        if way == "after":
            followers = self.after.get(last or "", {})
            best = sorted(followers.items(), key=lambda kv: (-kv[1][0], -kv[1][1]))
            return first_with_prefix((line for line, _ in best), typed)
        if way == "agent":
            for c in ranked:
                line = first_with_prefix(reversed(self.lines_of_key.get(c.key, ())), typed)
                if line is not None:
                    return line
            return None
        return self.history.most_recent(typed)

    def _judge(self, line: str) -> None:
        last = _last_line(self.tail)
        ranked = self.agent.predict(self.tail[-CONTEXT_LINES:], KEYS_RANKED)
        points = prefix_points(line)
        for typed_flag in (False, True):
            ps = [p for p in points if (p > 0) == typed_flag]
            if not ps:
                continue
            rec = self.record[typed_flag]
            for way in self.WAYS:
                hits = sum(self._by(way, line[:p], last, ranked) == line for p in ps)
                rec[way] = rec[way] * self.DECAY + hits / len(ps)

    def _learn_lines(self, stream: Context, *, judge: bool) -> None:
        for item in stream:
            ev, key = item
            line = event_line(ev)
            if line:
                if judge:
                    self._judge(line)
                prev = self.history.lines[-1] if self.history.lines else ""
                n = len(self.history.lines)
                count, _ = self.after.setdefault(prev, {}).get(line, (0, 0))
                self.after[prev][line] = (count + 1, n)
                lines = self.lines_of_key.setdefault(key, [])
                if line in lines:
                    lines.remove(line)
                lines.append(line)
                self.history.add(line)
            self.tail.append(item)
            if len(self.tail) > 2 * CONTEXT_LINES:
                del self.tail[:CONTEXT_LINES]


CONTEXT_LINES = 20  # the recent events the agent is asked with when a way is judged
KEYS_RANKED = 20  # the agent's ranked actions a prompt suggestion looks through
