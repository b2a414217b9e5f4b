"""Which typed line comes next: a scorer over the lines a person has typed, learned online.

zsh-autosuggestions shows the most recent line with the typed prefix, or the most recent one that
followed the last command. Each is one fixed rule; which is right depends on the person and on how
much is typed. ``LineScorer`` scores every candidate line on what those rules and McFly look at
(recency, frequency, what followed the last line and the two before it, the folder, the session),
on where other sessions went next from the same lines, on arguments just seen, and on the
micro-agent's ranking of the line's action. One linear weight set for an empty prompt and one
after a prefix are learned by softmax regression on every line the person types: at each point
where they look (the start and after each space), the line they really typed is the target.
Besides the lines typed before, it proposes the last line with one number counted up
(``cat part-3`` after ``cat part-2``) and the last line with the number that changed from the
line before changed again by as much (``cat part-7`` after ``cat part-9``, ``cat part-8``): lines
nobody typed yet. The ghost text is the line with
the most characters saved in expectation: how likely it is times what showing it now saves over
leaving it to the later looks on the line (after each next space it can still be shown, as often
as the line meant was the best after a prefix so far). A one-word line is worth its whole length
at an empty prompt, a long line mostly its first word. Right after a space it leaves out the
lines it showed at the earlier looks on the same line: the user typed on past them.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np

FEATURES = (
    "uses",  # log of how often the line was typed
    "age",  # minus the log of how many lines ago it was last typed
    "after_uses",  # log of how often it followed the last line
    "after_share",  # its share of what followed the last line
    "after_two",  # log of how often it followed the last two lines
    "this_session",  # typed before in this session
    "this_folder",  # share of its uses in the current folder
    "sessions",  # log of how many sessions typed it
    "aligned",  # log of how often other occurrences of the last lines led to it (within 3)
    "recent_args",  # share of its arguments seen in the last 10 lines
    "like_last",  # word overlap (Jaccard) with the last line
    "repeat",  # it is the last line again
    "counted_up",  # the last line with one number plus one
    "same_command",  # same first word as the last line
    "new",  # never typed
    "agent",  # 1 / rank of its action in the micro-agent's ranking (0 when not ranked)
    "newest",  # the most recent candidate (zsh-autosuggestions' history strategy)
    "newest_after",  # the most recent candidate that followed the last line (match_prev_cmd)
    "most_after",  # the candidate that most often followed the last line
    "most_used",  # the most used candidate
    "newest_no_follower",  # the newest candidate, when none followed the last line (match_prev
    # falling back to history)
    "repeat_no_follower",  # the last line again, when no candidate followed it
    "counted_on",  # the last line with the number that changed from the line before changed
    # again by as much (a sequence counted on, downwards too)
    "length",  # log of what it leaves to type (long lines are seldom typed again)
)
PRIOR = {"newest": 1.0, "newest_after": 0.5}  # before any learning: zsh-autosuggestions' order
LEARNING_RATE = 0.05
MAX_CANDIDATES = 40  # scored per prefix: the most recent, followers first
RECENT_LINES = 10  # the lines whose arguments count as just seen
ALIGN_LAST = 3  # how many of the last lines are looked up in the history
ALIGN_AHEAD = 3  # how far after an earlier occurrence a line still counts as next
ALIGN_OCCURRENCES = 50  # the most recent occurrences of a line looked at
SESSION_GAP_S = 1800.0  # a pause this long starts a new session where the shell gave no id
SHOWN_KEPT = 256  # suggestions remembered per line for the looks before the last space
_NUMBER = re.compile(r"\d{1,4}")


def counted_up(line: str) -> list[str]:
    """``line`` with each of its (short) numbers plus one, one number at a time."""
    return [
        line[: m.start()] + str(int(m.group()) + 1) + line[m.end() :]
        for m in _NUMBER.finditer(line)
        if not (m.start() and line[m.start() - 1].isdigit())
        and not (m.end() < len(line) and line[m.end()].isdigit())
    ]


def counted_on(line: str, before: str) -> str | None:
    """``line`` with the one (short) number that differs from ``before`` moved on by the same
    step (``cat part-7`` for ``cat part-8`` after ``cat part-9``); None when the two lines differ
    otherwise, or the number would go below zero."""
    if _NUMBER.sub("#", line) != _NUMBER.sub("#", before):
        return None
    ours, theirs = list(_NUMBER.finditer(line)), list(_NUMBER.finditer(before))
    changed = [(a, b) for a, b in zip(ours, theirs, strict=False) if a.group() != b.group()]
    if len(ours) != len(theirs) or len(changed) != 1:
        return None
    a, b = changed[0]
    value = 2 * int(a.group()) - int(b.group())
    return None if value < 0 else line[: a.start()] + str(value) + line[a.end() :]


def prefix_points(line: str) -> list[int]:
    """Where the user looks at the suggestion: the start and after each space."""
    return [0] + [i + 1 for i, ch in enumerate(line) if ch == " " and i + 1 < len(line)]


def _args(line: str) -> set[str]:
    return set(line.split()[1:])


class LineScorer:
    """The typed history with per-line statistics, and the learned weights that rank it."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.uses: Counter[str] = Counter()
        self.last: dict[str, int] = {}
        self.recent: dict[str, int] = {}  # the same lines, in the order last typed
        self.where: dict[str, list[int]] = defaultdict(list)
        self.after: dict[str, Counter[str]] = defaultdict(Counter)
        self.after_last: dict[str, dict[str, int]] = defaultdict(dict)
        self.after_two: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.sessions: dict[str, set] = defaultdict(set)
        self.folders: dict[str, Counter[str | None]] = defaultdict(Counter)
        self.session_lines: set[str] = set()
        self.session: object = None
        self.folder: str | None = None
        self.ts: float | None = None
        prior = np.array([PRIOR.get(f, 0.0) for f in FEATURES])
        self.weights = {False: prior.copy(), True: prior.copy()}
        self._context: dict | None = None
        self.found_later = [1.0, 2.0]  # looks after a prefix where the line meant was the best

    # -- learning ----------------------------------------------------------------------------
    def observe(
        self,
        line: str,
        *,
        folder: str | None = None,
        session: object = None,
        ts: float | None = None,
        agent_rank: Callable[[str], float] | None = None,
        learn: bool = True,
    ) -> None:
        """Learn from ``line`` (typed now) at every point the user looked, then add it."""
        if learn and self.lines:
            self._learn(line, agent_rank)
        if session is None and ts is not None and self.ts is not None:
            session = self.session if ts - self.ts < SESSION_GAP_S else ts
        if session != self.session:
            self.session, self.session_lines = session, set()
        n = len(self.lines)
        prev = self.lines[-1] if n else ""
        prev2 = self.lines[-2] if n > 1 else ""
        self.after[prev][line] += 1
        self.after_last[prev][line] = n
        self.after_two[(prev2, prev)][line] += 1
        self.uses[line] += 1
        self.last[line] = n
        self.recent.pop(line, None)  # the lines in the order last typed, newest last
        self.recent[line] = n
        self.where[line].append(n)
        self.sessions[line].add(session)
        self.folders[line][folder] += 1
        self.lines.append(line)
        self.session_lines.add(line)
        self.folder, self.ts = folder, ts
        self._context = None

    def _learn(self, line: str, agent_rank) -> None:
        for p in prefix_points(line):
            typed = line[:p]
            cands = self.candidates(typed)
            if line not in cands:
                continue
            if len(cands) < 2:
                self._found_later(typed, True)
                continue
            x = self.features(cands, typed, agent_rank)
            w = self.weights[bool(typed)]
            s = x @ w
            if typed:
                best = int(np.argmax(s + np.log(self.saved_now(cands, typed))))
                self._found_later(typed, cands[best] == line)
            prob = np.exp(s - s.max())
            prob /= prob.sum()
            w += LEARNING_RATE * (x[cands.index(line)] - prob @ x)

    def _found_later(self, typed: str, found: bool) -> None:
        if typed:
            self.found_later[0] += found
            self.found_later[1] += 1.0

    # -- ranking -----------------------------------------------------------------------------
    def suggest(self, typed: str, agent_rank=None) -> str | None:
        """The best line that starts with ``typed`` and is longer, or None. Right after a space,
        where the user looks again, not a line shown at an earlier look on this line: who wanted
        it would have taken it there."""
        if typed and not typed.endswith(" "):  # within a word: no new look
            return self._best(typed, [], agent_rank)
        shown = self.context()["shown"]  # per look and ranking, until the next line
        if len(shown) > SHOWN_KEPT:
            shown.clear()
        passed: list[str] = []
        for look in [*(typed[:p] for p in prefix_points(typed) if typed), typed]:
            key = (look, agent_rank)
            if key not in shown:
                shown[key] = self._best(look, passed, agent_rank)
            if shown[key] is not None:
                passed.append(shown[key])
        return shown[(typed, agent_rank)]

    def _best(self, typed: str, passed: list[str], agent_rank) -> str | None:
        ranked = self.ranked(typed, len(passed) + 1, agent_rank)
        return next((line for line in ranked if line not in passed), None)

    def ranked(self, typed: str, k: int, agent_rank=None) -> list[str]:
        """The best ``k`` lines for ``typed`` by the characters they would save: the weights
        give each line's log-odds of being the one meant, plus the log of what showing it now
        saves (a likely ``ls`` saves less than a slightly less likely long line)."""
        cands = self.candidates(typed)
        if not cands:
            return []
        scores = self.features(cands, typed, agent_rank) @ self.weights[bool(typed)]
        scores += np.log(self.saved_now(cands, typed))
        order = np.argsort(-scores, kind="stable")[:k]
        return [cands[i] for i in order]

    def saved_now(self, cands: list[str], typed: str) -> list[float]:
        """What showing each line now saves over leaving it to the later looks on the line:
        all it leaves to type, less what it would still save after each next space, where it is
        shown as often as the line meant was the best after a prefix so far."""
        found = self.found_later[0] / self.found_later[1]
        width, out = len(typed), []
        for line in cands:
            later, missed = 0.0, 1.0
            space = line.find(" ", width)
            while space != -1 and space + 1 < len(line):
                later += missed * found * (len(line) - space - 1)
                missed *= 1.0 - found
                space = line.find(" ", space + 1)
            out.append(len(line) - width - later)
        return out

    def ready_lines(self, k: int, agent_rank=None) -> list[str]:
        """The best ``k`` lines at an empty prompt, then the best after each of their first
        words: a list whose first line extending what is typed is (mostly) the suggestion, for
        shells that read a ready file."""
        lines = self.ranked("", k, agent_rank)
        for word in dict.fromkeys(line.split()[0] for line in lines if line.split()):
            best = self.suggest(word + " ", agent_rank)
            if best and best not in lines:
                lines.append(best)
        return lines

    def candidates(self, typed: str) -> list[str]:
        """Lines that start with ``typed`` and are longer: followers of the last line first,
        then the most recent, at most MAX_CANDIDATES; plus the last line counted up and on."""
        ctx = self.context()
        # In the line's order (a set's order changes with the interpreter's hash seed, and so
        # did which of two equal-scored lines was shown).
        counted = [
            *ctx["counted_up"],
            *(c for c in ctx["counted_on"] if c not in ctx["counted_up"]),
        ]
        fresh = [c for c in counted if c.startswith(typed) and len(c) > len(typed)]
        followers = self.after.get(ctx["prev"], {})
        width = len(typed)
        seen = self._newest(followers, typed)
        if seen is None:  # at most MAX_CANDIDATES lines fit: all of them, in first-seen order
            seen = [line for line in self.last if len(line) > width and line.startswith(typed)]
        return seen + [c for c in fresh if c not in self.last]

    def _newest(self, followers, typed: str) -> list[str] | None:
        """When more than MAX_CANDIDATES lines fit ``typed``: the followers of the last line,
        then the other lines, each newest first, MAX_CANDIDATES in all (None: fewer fit). Read
        from the lines in the order last typed, stopping as soon as enough fit: sorting every
        line that fits, at each look, made learning a line cost more the more lines there were
        (a shared first word such as `git ` fits thousands)."""
        width, last = len(typed), self.last

        def fits(line: str) -> bool:
            return len(line) > width and line.startswith(typed)

        ahead = sorted((f for f in followers if f in last and fits(f)), key=last.__getitem__)
        ahead.reverse()
        need = MAX_CANDIDATES - len(ahead) + 1  # others to see before more than MAX fit
        others: list[str] = []
        if need > 0:
            for line in reversed(self.recent):
                if fits(line) and line not in followers:
                    others.append(line)
                    if len(others) >= need:
                        break
        if len(ahead) + len(others) <= MAX_CANDIDATES:
            return None
        return (ahead + others)[:MAX_CANDIDATES]

    def context(self) -> dict:
        """What the features of every candidate share, computed once per new line."""
        if self._context is None:
            self._context = self._context_of(self.lines)
        return self._context

    @contextmanager
    def seen_from(self, recent: list[str], folder: str | None) -> Iterator[LineScorer]:
        """Rank as another shell would: one whose session typed ``recent`` (oldest first) and
        stands in ``folder`` (several shells open: each gets the lines for its own place)."""
        saved = (self._context, self.folder, self.session_lines)
        self._context = self._context_of(recent)
        self.folder, self.session_lines = folder, set(recent)
        try:
            yield self
        finally:
            self._context, self.folder, self.session_lines = saved

    def _context_of(self, lines: list[str]) -> dict:
        recent: set[str] = set()
        for line in lines[-RECENT_LINES:]:
            recent |= _args(line)
        prev = lines[-1] if lines else ""
        return {
            "prev": prev,
            "prev2": lines[-2] if len(lines) > 1 else "",
            "recent": recent,
            "aligned": self._aligned(lines[-ALIGN_LAST:]),
            "counted_up": dict.fromkeys(counted_up(prev)) if prev else {},
            "counted_on": {on: None}
            if len(lines) > 1 and (on := counted_on(prev, lines[-2]))
            else {},
            "shown": {},
        }

    def _aligned(self, last: list[str]) -> Counter[str]:
        """Where earlier occurrences of the ``last`` few lines went next (nearer counts more)."""
        lines, n, out = self.lines, len(self.lines), Counter()
        for back, line in enumerate(reversed(last), 1):
            for p in self.where.get(line, [])[-ALIGN_OCCURRENCES:]:
                if p >= n - back:
                    continue
                for d in range(1, ALIGN_AHEAD + 1):
                    if p + d < n:
                        out[lines[p + d]] += 1.0 / (back * d)
        return out

    def features(self, cands: list[str], typed: str, agent_rank=None) -> np.ndarray:
        ctx = self.context()
        prev, n = ctx["prev"], len(self.lines)
        followers = self.after.get(prev, {})
        total = sum(followers.values()) or 1
        two = self.after_two.get((ctx["prev2"], prev), {})
        prev_words = set(prev.split())
        prev_cmd = prev.split()[0] if prev_words else None
        rows = []
        for line in cands:
            uses = self.uses.get(line, 0)
            words = set(line.split())
            args = words - {line.split()[0]} if words else set()
            rows.append(
                (
                    math.log1p(uses),
                    -math.log1p(n - self.last[line]) if uses else -math.log1p(n + 1),
                    math.log1p(followers.get(line, 0)),
                    followers.get(line, 0) / total,
                    math.log1p(two.get(line, 0)),
                    float(line in self.session_lines),
                    self.folders[line][self.folder] / uses if uses else 0.0,
                    math.log1p(len(self.sessions[line])) if uses else 0.0,
                    math.log1p(ctx["aligned"].get(line, 0.0)),
                    len(args & ctx["recent"]) / len(args) if args else 0.0,
                    len(words & prev_words) / len(words | prev_words) if prev_words else 0.0,
                    float(line == prev),
                    float(line in ctx["counted_up"]),
                    float(prev_cmd is not None and line.split()[0] == prev_cmd),
                    float(not uses),
                    agent_rank(line) if agent_rank is not None else 0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    float(line in ctx["counted_on"]),
                    math.log(len(line) - len(typed)),
                )
            )
        x = np.array(rows)
        after_last = self.after_last.get(prev, {})
        _mark_best(x, 16, [self.last.get(line, -1) for line in cands])
        _mark_best(x, 17, [after_last.get(line, -1) for line in cands])
        _mark_best(x, 18, [followers.get(line, 0) or -1 for line in cands])
        _mark_best(x, 19, [self.uses.get(line, 0) or -1 for line in cands])
        if not x[:, 17].any():  # nothing here ever followed the last line
            x[:, 20] = x[:, 16]
            x[:, 21] = x[:, 11]
        return x


def _mark_best(x: np.ndarray, column: int, values: Iterable[float]) -> None:
    values = list(values)
    best = max(values)
    if best >= 0:
        x[values.index(best), column] = 1.0
