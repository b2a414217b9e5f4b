"""Building blocks of the demo's workflows: the session state and the step constructors."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

Step = tuple[str, str, dict]
Emitter = Callable[[random.Random, "Session"], list[Step]]


@dataclass
class Session:
    """State that lives for one stretch of work in one workflow (the open file, the project)."""

    home: str
    workflow: str
    focus: str = ""
    counter: int = 0
    scratch: dict = field(default_factory=dict)

    def p(self, rel: str) -> str:
        return rel if rel.startswith("/") else f"{self.home}/{rel}"


def _fs(action: str, path: str, dest: str | None = None) -> Step:
    f: dict = {"path": path}
    if dest:
        f["dest"] = dest
    return ("fs", action, f)


def _focus(app: str) -> Step:
    return ("app", "focus", {"app": app})


def _sh(cmd: str, cwd: str) -> Step:
    return ("shell", "command", {"cmd": cmd, "cwd": cwd})


# -- noise -------------------------------------------------------------------------------------
NOISE_APPS = ("slack", "spotify", "firefox", "thunderbird", "gnome-calculator", "signal-desktop")
NOISE_FILES = ("Desktop/todo.txt", "tmp/scratch.txt", ".bashrc", "Desktop/link.url", "tmp/out.log")
NOISE_CMDS = ("ls", "clear", "cd ..", "history | tail", "echo $PATH")


def noise_step(rng: random.Random, home: str) -> Step:
    """A stray action unrelated to the workflow at hand."""
    r = rng.random()
    if r < 0.55:
        return _focus(rng.choice(NOISE_APPS))
    if r < 0.85:
        return _fs(rng.choice(("modify", "modify", "create")), f"{home}/{rng.choice(NOISE_FILES)}")
    return _sh(rng.choice(NOISE_CMDS), home)
