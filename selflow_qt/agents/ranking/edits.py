"""Edits of recent commands: lines the user never ran verbatim but probably runs next.

Most never-seen next commands are small edits of a recent one (same program, one flag added or
changed, another file). ``EditModel`` learns, from consecutive commands of the same program, the
single token-level edit that turned one into the other (``-v`` -> ``-d``; insert ``-u`` after
``-v``), and proposes the most common of them applied to the latest command, plus the latest
command with its last argument swapped for one used recently (a file just edited or copied).
"""

from __future__ import annotations

import difflib
import shlex
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from selflow_qt.agents.ranking.actions import tilde
from selflow_qt.core.event import Event

MIN_SIMILARITY = 0.5
RECENT_COMMANDS = 8


def tokens(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=False)
    except ValueError:
        return line.split()


def _edit_of(a: list[str], b: list[str]) -> tuple | None:
    """The one contiguous token edit from ``a`` to ``b`` as (anchor, old, new), else None."""
    if not a or not b or a[0] != b[0] or a == b:
        return None
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    if sm.ratio() < MIN_SIMILARITY:
        return None
    ops = [op for op in sm.get_opcodes() if op[0] != "equal"]
    if len(ops) != 1:
        return None
    _, i1, i2, j1, j2 = ops[0]
    anchor = a[i1 - 1] if i1 > 0 else "^"
    return anchor, tuple(a[i1:i2]), tuple(b[j1:j2])


def _apply(line: list[str], edit: tuple) -> list[str] | None:
    anchor, old, new = edit
    n = len(old)
    for i in range(1, len(line) + 1):
        before = line[i - 1] if i > 0 else "^"
        if before == anchor and tuple(line[i : i + n]) == old:
            return line[:i] + list(new) + line[i + n :]
    return None


@dataclass
class EditModel:
    """Counts of single-token edits between consecutive commands of one program."""

    edits: dict = field(default_factory=lambda: defaultdict(Counter))  # program -> edit -> n
    recent: list = field(default_factory=list)  # the last commands as token lists
    recent_args: list = field(default_factory=list)  # arguments (paths first) seen lately

    def observe(self, ev: Event) -> None:
        if ev.source == "fs" and ev.path:
            self._remember_arg(tilde(ev.path))
            return
        if ev.source != "shell" or not ev.cmd:
            return
        cur = tokens(tilde(ev.cmd.strip()))
        if not cur:
            return
        for prev in reversed(self.recent[-3:]):
            edit = _edit_of(prev, cur)
            if edit is not None:
                self.edits[cur[0]][edit] += 1
                break
        self.recent = [*self.recent[-(RECENT_COMMANDS - 1) :], cur]
        for arg in cur[1:]:
            if not arg.startswith("-") and len(arg) > 2:
                self._remember_arg(arg)

    def _remember_arg(self, arg: str) -> None:
        if arg in self.recent_args:
            self.recent_args.remove(arg)
        self.recent_args = [*self.recent_args[-15:], arg]

    def propose(self, context_cmds: list[str], n: int = 6) -> list[tuple[str, float, str]]:
        """Up to ``n`` new lines as (line, how often that edit was seen, what kind of edit)."""
        if not context_cmds:
            return []
        last = tokens(context_cmds[-1])
        if not last:
            return []
        known = {" ".join(tokens(c)) for c in context_cmds}
        out: list[tuple[str, float, str]] = []
        seen: set[str] = set()

        def add(toks: list[str] | None, weight: float, kind: str) -> None:
            if not toks:
                return
            line = " ".join(toks)
            if line not in known and line not in seen:
                seen.add(line)
                out.append((line, weight, kind))

        for edit, count in self.edits.get(last[0], Counter()).most_common(24):
            add(_apply(last, edit), float(count), "edit")
            if len(out) >= n - 2:
                break
        if len(last) > 1 and not last[-1].startswith("-"):
            for arg in reversed(self.recent_args[-6:]):
                if arg != last[-1]:
                    add([*last[:-1], arg], 0.0, "swap")
                if len(out) >= n:
                    break
        return out[:n]
