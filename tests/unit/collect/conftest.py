"""Fixtures for collector tests: run a real collector in a thread and read what it emitted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from selflow_qt.core.event import Event


class Sink:
    """Thread-safe list of emitted events."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, ev: Event) -> None:
        with self._lock:
            self.events.append(ev)

    def snapshot(self) -> list[Event]:
        with self._lock:
            return list(self.events)

    def wait_for(self, cond: Callable[[list[Event]], bool], timeout: float = 20.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            evs = self.snapshot()
            if cond(evs):
                return evs
            time.sleep(0.05)
        return self.snapshot()


class Running:
    """A collector running in its own thread, stopped by the fixture."""

    def __init__(self, collector, sink: Sink) -> None:
        self.collector = collector
        self.sink = sink
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=collector.run, args=(sink, self.stopping), daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(20)


@pytest.fixture
def run_collector():
    started: list[Running] = []

    def start(collector) -> Running:
        r = Running(collector, Sink())
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()
