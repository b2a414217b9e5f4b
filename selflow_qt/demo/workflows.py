"""The demo person's workflows: each a small Markov chain of steps that emit events.

Steps carry variation (which file, how many saves, whether tests pass) so the next action is
partly, not fully, predictable. Paths are relative to the demo home folder ``~``.
"""

from __future__ import annotations

from dataclasses import dataclass

from selflow_qt.demo.chores import (
    ADMIN,
    ADMIN_EMIT,
    DESIGN,
    DESIGN_EMIT,
    DOWNLOADS,
    DOWNLOADS_EMIT,
)
from selflow_qt.demo.desk import CODING, CODING_EMIT, WRITING, WRITING_EMIT
from selflow_qt.demo.steps import Emitter, Session, noise_step

__all__ = ["WORKFLOWS", "Session", "Workflow", "noise_step"]


@dataclass(frozen=True)
class Workflow:
    name: str
    chain: dict[str, list[tuple[str, float]]]
    emit: dict[str, Emitter]
    # relative preference for each hour of the day (0-23) on weekdays and at weekends
    weekday: tuple[float, ...]
    weekend: tuple[float, ...]
    session_len: float  # mean actions per session at 2,500 events a day


def _hours(*spans: tuple[int, int, float], base: float = 0.05) -> tuple[float, ...]:
    w = [base] * 24
    for lo, hi, val in spans:
        for h in range(lo, hi):
            w[h] = max(w[h], val)
    return tuple(w)


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        "coding",
        CODING,
        CODING_EMIT,
        _hours((9, 12, 1.0), (14, 18, 1.0), (20, 23, 0.4)),
        _hours((10, 12, 0.3), (20, 23, 0.3)),
        70,
    ),
    Workflow(
        "writing",
        WRITING,
        WRITING_EMIT,
        _hours((10, 13, 0.8), (15, 17, 0.7)),
        _hours((10, 12, 0.2)),
        40,
    ),
    Workflow(
        "downloads",
        DOWNLOADS,
        DOWNLOADS_EMIT,
        _hours((12, 14, 0.8), (17, 20, 0.6)),
        _hours((10, 13, 0.9), (15, 19, 0.8)),
        25,
    ),
    Workflow(
        "design",
        DESIGN,
        DESIGN_EMIT,
        _hours((13, 17, 0.6)),
        _hours((14, 19, 1.0)),
        45,
    ),
    Workflow(
        "admin",
        ADMIN,
        ADMIN_EMIT,
        _hours((8, 10, 0.9), (18, 22, 0.7)),
        _hours((10, 12, 0.4), (19, 22, 0.5)),
        30,
    ),
)
