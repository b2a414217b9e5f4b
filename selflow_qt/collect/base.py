"""What every live collector shares: how it emits events and reports its health.

A collector proves it works (at start and every few minutes): the file collector sees a change it
makes itself, the shell and app collectors say when they last saw an event. When such a check
fails the collector is ``stalled`` and its detail is one line that says what stopped and why
(:func:`problem_line` is the one place the tray, the dashboard and `selflow status` get it from).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from selflow_qt.core.event import Event

Emit = Callable[[Event], object]

RUNNING = "running"
STALLED = "stalled"  # running, but its self-check failed: it no longer sees events
STOPPED = "stopped"
UNAVAILABLE = "unavailable"
ERROR = "error"
STATES = (RUNNING, STALLED, STOPPED, UNAVAILABLE, ERROR)
LIVE_STATES = (RUNNING, STALLED)  # a process is collecting (or trying to)

# What each collector captures, in the user's words ("File capture stopped: ...").
CAPTURES = {
    "fs": "File capture",
    "apps": "App capture",
    "shell": "Shell capture",
    "shell-hook": "Shell hook capture",
}


def capture_name(name: str) -> str:
    return CAPTURES.get(name, f"{name} capture".capitalize())


def problem_line(name: str, state: str, detail: str) -> str | None:
    """The one line saying that collector ``name`` stopped seeing events and why; None if fine."""
    if state == STALLED:
        return detail or f"{capture_name(name)} stopped: its self-check failed"
    if state == ERROR:
        return f"{capture_name(name)} stopped: {detail or 'it failed'}"
    if state == UNAVAILABLE:
        return f"{capture_name(name)} unavailable: {detail or 'not supported here'}"
    return None


def problem_lines(collectors: Iterable[tuple[str, str, str]]) -> list[str]:
    """One line per collector (name, state, detail) that stopped seeing events, in order."""
    return [line for n, s, d in collectors if (line := problem_line(n, s, d))]


def clock_time(ts: float, now: float | None = None) -> str:
    """A local time to the minute (so a status that shows it changes at most once a minute):
    ``14:03`` today, ``Mon 12 Jan 14:03`` before."""
    t = datetime.fromtimestamp(ts).astimezone()
    today = datetime.fromtimestamp(time.time() if now is None else now).astimezone().date()
    return t.strftime("%H:%M") if t.date() == today else t.strftime("%a %d %b %H:%M")


@dataclass
class CollectorHealth:
    """One collector's health as `selflow status` and the tray show it."""

    name: str
    state: str
    detail: str = ""
    pid: int | None = None
    updated_at: float = 0.0
    last_event_at: float | None = None


class Collector:
    """A live source of events. ``run`` blocks in its own thread until ``stopping`` is set.

    Subclasses set ``name`` and update ``state``/``detail`` (read from other threads). A failed
    self-check is set with :meth:`set_problem`: while it lasts a running collector reports
    ``stalled`` with that one line, whatever its detail says meanwhile.
    """

    name = "collector"
    # A collector that calls saw_event() names its events: "last <noun> 14:03" in its status.
    event_noun = ""

    def __init__(self) -> None:
        self.state = STOPPED
        self.detail = ""
        self.problem = ""
        self.last_event_at: float | None = None
        self._lock = threading.Lock()

    def set_status(self, state: str, detail: str = "") -> None:
        with self._lock:
            self.state, self.detail = state, detail

    def set_problem(self, line: str) -> None:
        """A self-check failed: ``line`` says what stopped and why (see problem_line)."""
        with self._lock:
            self.problem = line

    def clear_problem(self) -> None:
        with self._lock:
            self.problem = ""

    def saw_event(self, ts: float | None = None) -> None:
        """Record that an event was seen (its time, or now)."""
        ts = time.time() if ts is None else ts
        with self._lock:
            if self.last_event_at is None or ts > self.last_event_at:
                self.last_event_at = ts

    def status(self) -> tuple[str, str]:
        with self._lock:
            state, detail, problem, last = self.state, self.detail, self.problem, self.last_event_at
        if problem and state == RUNNING:
            return STALLED, problem
        if state == RUNNING and self.event_noun:
            seen = (
                f"last {self.event_noun} {clock_time(last)}"
                if last
                else f"no {self.event_noun} yet"
            )
            detail = f"{detail}; {seen}" if detail else seen
        return state, detail

    def run(self, emit: Emit, stopping: threading.Event) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
