"""Small synthetic command streams shared by the agents' tests."""

from __future__ import annotations

import random

from selflow_qt.core.event import Event


def folder_stream(n_blocks: int, seed: int = 0) -> list[Event]:
    """ls, git status, then make in ~/a or pytest in ~/b: only the working folder tells which."""
    rng = random.Random(seed)
    out, t = [], 1_700_000_000.0
    for _ in range(n_blocks):
        folder = rng.choice(["a", "b"])
        for cmd in ("ls", "git status", "make" if folder == "a" else "pytest -q"):
            t += rng.uniform(3, 30)
            out.append(Event(ts=t, source="shell", action="command", cmd=cmd, cwd=f"/w/{folder}"))
    return out
