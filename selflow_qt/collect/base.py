"""What every live collector shares: how it emits events and reports its health."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from selflow_qt.core.event import Event

Emit = Callable[[Event], object]

RUNNING = "running"
STOPPED = "stopped"
UNAVAILABLE = "unavailable"
ERROR = "error"
STATES = (RUNNING, STOPPED, UNAVAILABLE, ERROR)


@dataclass
class CollectorHealth:
    """One collector's health as `selflow status` and the tray show it."""

    name: str
    state: str
    detail: str = ""
    pid: int | None = None
    updated_at: float = 0.0


class Collector:
    """A live source of events. ``run`` blocks in its own thread until ``stopping`` is set.

    Subclasses set ``name`` and update ``state``/``detail`` (read from other threads).
    """

    name = "collector"

    def __init__(self) -> None:
        self.state = STOPPED
        self.detail = ""
        self._lock = threading.Lock()

    def set_status(self, state: str, detail: str = "") -> None:
        with self._lock:
            self.state, self.detail = state, detail

    def status(self) -> tuple[str, str]:
        with self._lock:
            return self.state, self.detail

    def run(self, emit: Emit, stopping: threading.Event) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
