"""The benchmark's events as plain dicts (stdlib only, so the aw-core venv can build them too)."""

from __future__ import annotations

import random

APPS = ["code", "firefox", "gnome-terminal", "slack", "inkscape", "libreoffice"]
CMDS = ["git status", "pytest -q", "make build", "ls -la", "cd src", "vim notes.md", "cargo test"]


def make_events(n: int = 200_000, seed: int = 7) -> list[dict]:
    """``n`` deterministic events shaped like a day of real capture (fs, app, shell)."""
    rnd = random.Random(seed)
    out = []
    t = 1_700_000_000.0
    for i in range(n):
        t += rnd.random() * 2
        kind = rnd.random()
        if kind < 0.6:
            folder = rnd.choice(["projects/selflow/src", "Documents/reports", "Downloads", "art"])
            out.append(
                {
                    "ts": t,
                    "tz_offset": 60,
                    "source": "fs",
                    "action": rnd.choice(["create", "modify", "delete", "move"]),
                    "path": f"/home/ana/{folder}/file{i}.txt",  # unique: nothing coalesces
                    "meta": {"size": rnd.randrange(1, 100_000)},
                }
            )
        elif kind < 0.8:
            out.append(
                {
                    "ts": t,
                    "tz_offset": 60,
                    "source": "app",
                    "action": rnd.choice(["launch", "close", "focus"]),
                    "app": rnd.choice(APPS),
                    "duration": rnd.random() * 600,
                    "meta": {"pid": rnd.randrange(1000, 60000)},
                }
            )
        else:
            out.append(
                {
                    "ts": t,
                    "tz_offset": 60,
                    "source": "shell",
                    "action": "command",
                    "cmd": rnd.choice(CMDS) + f" {i % 97}",
                    "cwd": "/home/ana/projects/selflow",
                    "meta": {"shell": "bash"},
                }
            )
    return out
