"""What "the same next action" means, and how events are rendered compactly for a model.

An event's *action key* is ``"<source> <verb> <target>"``:

- files (``fs``): the verb (create/modify/delete/move) and the path with the home folder as ``~``;
- commands (``shell``): ``run`` and the command line with ``~`` paths, quoted strings as ``"…"``,
  numbers as ``N``, whitespace collapsed, at most 8 words;
- apps (``app``/``aw``): ``open`` (launch and focus are the same action) or ``close``, and the
  lower-cased app name.

A prediction is a hit when its key equals the key of what the user really did next. ``system``
events (gaps, afk) are never targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from selflow_qt.core.event import Event

# A home folder only where a path starts: at the start of the text or after a space, quote, ``=``
# or ``:`` (never inside another path such as /tmp/x/home/u); /var/home/u is Silverblue's home.
_HOME = re.compile(
    r"(?<![^\s\"'=:])"
    r"(?:(?:/var)?/home/[^/\s]+|/Users/[^/\s]+|/root|[A-Za-z]:\\Users\\[^\\\s]+)"
    r"(?=/|\\|\s|$)"
)
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
MAX_CMD_WORDS = 8
MAX_TARGET_CHARS = 96


def tilde(text: str) -> str:
    """Replace a home-folder prefix (Linux, macOS, Windows, root) with ``~``."""
    return _HOME.sub("~", text)


def command_shape(cmd: str) -> str:
    """The command with its variable parts generalised (see the module docstring)."""
    text = _QUOTED.sub('"…"', tilde(cmd.strip()))
    text = _NUMBER.sub("N", text)
    return " ".join(text.split()[:MAX_CMD_WORDS])


def action_key(ev: Event) -> str | None:
    """The normalised action of an event, or None when it is not a predictable action."""
    if ev.source == "fs":
        if not ev.path:
            return None
        target = tilde(ev.path)
        verb = ev.action
    elif ev.source == "shell":
        if not ev.cmd:
            return None
        target, verb = command_shape(ev.cmd), "run"
    elif ev.source in ("app", "aw"):
        if not ev.app:
            return None
        target = ev.app.strip().lower()
        verb = "close" if ev.action in ("close", "exit", "quit") else "open"
        if ev.source == "aw":
            return f"app {verb} {target}"[: MAX_TARGET_CHARS + 12]
    else:
        return None
    if not target:
        return None
    return f"{ev.source} {verb} {target[-MAX_TARGET_CHARS:]}"


def full_key(ev: Event) -> str | None:
    """The exact redacted action: like ``action_key`` but with the whole command line kept."""
    if ev.source == "shell" and ev.cmd:
        text = " ".join(tilde(ev.cmd.strip()).split())
        return f"shell run {text}" if text else None
    return action_key(ev)


def kind_of(key: str) -> str:
    """The suggestion kind of an action key: file, command or app."""
    return {"fs": "file", "shell": "command"}.get(key.split(" ", 1)[0], "app")


@dataclass
class Candidate:
    """One ranked guess of the next action, always a well-formed action key."""

    key: str
    score: float
    example: Event | None = None  # the latest real event with this key (for display)
    extra: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return kind_of(self.key)

    @property
    def text(self) -> str:
        verb_target = self.key.split(" ", 1)[1]
        if self.kind == "command":
            ex = self.example
            return ex.cmd if ex is not None and ex.cmd else verb_target.split(" ", 1)[1]
        return verb_target


def candidate_full(c: Candidate) -> str:
    """The exact line a candidate stands for (its own, else its display event's, else its key)."""
    full = c.extra.get("full") if c.extra else None
    if full:
        return full
    return (full_key(c.example) if c.example is not None else None) or c.key


def keyed(events: list[Event]) -> list[tuple[Event, str]]:
    """The predictable events of a stream with their keys, in order."""
    out = []
    for ev in events:
        k = action_key(ev)
        if k is not None:
            out.append((ev, k))
    return out


def gap_text(seconds: float) -> str:
    """A compact relative time: +12s, +3m, +2h, +1d."""
    s = max(0.0, seconds)
    if s < 60:
        return f"+{int(s)}s"
    if s < 3600:
        return f"+{int(s // 60)}m"
    if s < 86400:
        return f"+{int(s // 3600)}h"
    return f"+{int(s // 86400)}d"


def render_prompt(context: list[tuple[Event, str]], lines: int = 5) -> str:
    """The last ``lines`` actions before a prediction for the LM: the local day and hour and the
    working folder, then each action's exact redacted line (arguments kept) with its gap."""
    ctx = context[-lines:]
    if not ctx:
        return "next:"
    last = ctx[-1][0]
    local = datetime.fromtimestamp(last.ts, tz=timezone.utc) + timedelta(minutes=last.tz_offset)
    head = f"{local.strftime('%a').lower()} {local.hour}h"
    if last.cwd:
        head += f" in {tilde(last.cwd)[-MAX_TARGET_CHARS:]}"
    out = [head]
    prev_ts = ctx[0][0].ts
    for ev, key in ctx:
        line = (full_key(ev) or key)[: MAX_TARGET_CHARS + 12]
        out.append(f"{gap_text(ev.ts - prev_ts)} {line}")
        prev_ts = ev.ts
    out.append("next:")
    return "\n".join(out)


def render_target(key: str) -> str:
    """The text an agent must produce after the prompt for action ``key``."""
    return f" {key}\n"
