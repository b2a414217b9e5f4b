"""Optimization suggestions derived from the events: commands that follow edits, growing
folders, repeated commands. Plain Python over SQL; no Qt."""

from __future__ import annotations

import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from peewee import SqliteDatabase

from selflow_qt.core.format import count
from selflow_qt.store.queries.insights import files_and_commands

DAY = 86_400.0
FOLLOW_WINDOW_S = 600.0  # a command "follows" edits when it comes within 10 minutes of the last one
MULTI_WORD_TOOLS = {"git", "npm", "yarn", "pnpm", "cargo", "docker", "kubectl", "make", "go", "uv"}
_HOME_RE = re.compile(r"^(/home/[^/]+|/Users/[^/]+|[A-Za-z]:\\Users\\[^\\]+)")


@dataclass
class OptimizationTip:
    """A suggestion derived from the data, with the numbers that support it."""

    kind: str  # command-after-edits / folder-growth / repeated-command
    text: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)


def short_path(path: str, home: str | None = None) -> str:
    """``~/...`` for paths in a home folder (the given one, else any /home/<user>)."""
    if home and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~" + path[len(home.rstrip("/")) :]
    return _HOME_RE.sub("~", path, count=1)


def command_key(cmd: str) -> str:
    """The program a command line runs, with its subcommand for tools like git or npm."""
    words = cmd.strip().split()
    if not words:
        return ""
    if words[0] in ("sudo", "env") and len(words) > 1:
        words = words[1:]
    prog = words[0].rsplit("/", 1)[-1]
    if prog in MULTI_WORD_TOOLS and len(words) > 1 and not words[1].startswith("-"):
        return f"{prog} {words[1]}"
    if prog in ("python", "python3") and len(words) > 2 and words[1] == "-m":
        return f"{prog} -m {words[2]}"
    return prog


def parent_folder(path: str) -> str:
    sep = "\\" if "\\" in path and "/" not in path else "/"
    head = path.rstrip(sep).rsplit(sep, 1)[0]
    return head or sep


# -- optimization suggestions --------------------------------------------------------------------
def _commands_after_edits(
    edits: list[tuple[float, str]],
    commands: list[tuple[float, str, str]],
    home: str | None,
    min_sessions: int,
    min_share: float,
) -> list[OptimizationTip]:
    by_cwd: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for ts, cwd, key in commands:
        by_cwd[cwd].append((ts, key))
    tips = []
    for cwd, cmds in by_cwd.items():
        if len(cmds) < min_sessions:
            continue
        prefix = cwd.rstrip("/") + "/"
        timeline = [(ts, 0, "") for ts, p in edits if p.startswith(prefix)]
        if len(timeline) < min_sessions:
            continue
        timeline += [(ts, 1, key) for ts, key in cmds]
        timeline.sort()
        sessions, followed = 0, Counter()
        in_session, last_edit = False, 0.0
        for ts, is_cmd, key in timeline:
            if not is_cmd:
                if in_session and ts - last_edit > FOLLOW_WINDOW_S:
                    sessions += 1  # the previous edit session ended with no command
                in_session, last_edit = True, ts
            elif in_session:
                sessions += 1
                if ts - last_edit <= FOLLOW_WINDOW_S:
                    followed[key] += 1
                in_session = False
        sessions += 1 if in_session else 0
        if sessions < min_sessions or not followed:
            continue
        key, n = followed.most_common(1)[0]
        share = n / sessions
        if share >= min_share:
            where = short_path(cwd, home)
            tips.append(
                OptimizationTip(
                    "command-after-edits",
                    f"You run `{key}` after {share:.0%} of edit sessions in {where}: "
                    "an agent could suggest it",
                    score=share * math.log1p(sessions),
                    evidence={"command": key, "folder": where, "sessions": sessions, "followed": n},
                )
            )
    return tips


def _growing_folders(
    rows: list[tuple[float, str, str, str | None]],
    span_days: float,
    home: str | None,
    min_per_day: float,
) -> list[OptimizationTip]:
    added: Counter = Counter()
    removed: Counter = Counter()
    for _ts, action, path, dest in rows:
        if action == "create":
            added[parent_folder(path)] += 1
        elif action == "delete":
            removed[parent_folder(path)] += 1
        elif action == "move":
            removed[parent_folder(path)] += 1
            if dest:
                added[parent_folder(dest)] += 1
    tips = []
    for folder, n_add in added.items():
        net = n_add - removed[folder]
        per_day = net / span_days
        if per_day >= min_per_day:
            where = short_path(folder, home)
            tips.append(
                OptimizationTip(
                    "folder-growth",
                    f"{where} accumulates {per_day:.0f} files/day ({n_add} added, "
                    f"{removed[folder]} removed in {span_days:.0f} days): a rule could file them away",
                    score=math.log1p(per_day),
                    evidence={"folder": where, "added": n_add, "removed": removed[folder]},
                )
            )
    return tips


def optimization_suggestions(
    db: SqliteDatabase,
    *,
    now: float | None = None,
    days: int = 14,
    home: str | None = None,
    min_sessions: int = 5,
    min_share: float = 0.5,
    min_files_per_day: float = 3.0,
    min_repeats_per_day: float = 5.0,
    limit: int = 8,
) -> list[OptimizationTip]:
    """Suggestions derived from the last ``days`` days of events, best supported first."""
    now = time.time() if now is None else now
    rows = files_and_commands(db, now - days * DAY, now)
    if not rows:
        return []
    span_days = max(1.0, (rows[-1][0] - rows[0][0]) / DAY)
    edits, commands, fs_rows, full_cmds = [], [], [], Counter()
    for ts, source, action, path, dest, cmd, cwd in rows:
        if source == "fs" and path:
            fs_rows.append((ts, action, path, dest))
            if action in ("create", "modify"):
                edits.append((ts, path))
        elif source == "shell" and cmd:
            full_cmds[cmd.strip()] += 1
            if cwd:
                commands.append((ts, cwd, command_key(cmd)))
    tips = _commands_after_edits(edits, commands, home, min_sessions, min_share)
    folders = _growing_folders(fs_rows, span_days, home, min_files_per_day)
    tips += sorted(folders, key=lambda t: -t.score)[:3]  # the three fastest-growing folders
    for cmd, n in full_cmds.most_common(3):
        per_day = n / span_days
        if per_day >= min_repeats_per_day:
            tips.append(
                OptimizationTip(
                    "repeated-command",
                    f"You typed `{cmd}` {count(n, 'time')} in "
                    f"{count(max(1, round(span_days)), 'day')} ({per_day:.0f}/day): "
                    "an alias or a suggestion in the tray would save typing",
                    score=0.5 * math.log1p(per_day),
                    evidence={"command": cmd, "count": n},
                )
            )
    tips.sort(key=lambda t: -t.score)
    return tips[:limit]
