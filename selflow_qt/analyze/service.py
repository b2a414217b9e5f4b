"""The analysis jobs (trigger check, incremental detection, the cycle) in a child process.

They need scikit-learn, scipy, pandas and numba; the tray needs none of them. So they run in one
child process per data folder, spawned (nothing of the tray is inherited), which serves jobs one
at a time and exits once ``IDLE_EXIT_S`` pass without one: an idle tray holds no analysis
library. Progress and the result come back over a pipe; ``should_stop()`` reaches the job through
a shared event, where it raises ``Cancelled`` as it would in process. A job the child never
started (it was exiting just then) is sent again to a new child; a child that dies during a job
is an error naming its exit code. The child is run by ``core.supervisor``: it ends with the app
(within 2 s of the app's death or of a SIGTERM, whatever job it is running), and its output goes
to ``<data>/logs/analysis-<stamp>.log``.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import multiprocessing.util  # noqa: F401 - its exit handler (joins children) registers first
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selflow_qt.core import supervisor
from selflow_qt.core.cancel import Cancelled

IDLE_EXIT_S = 120.0
POLL_S = 0.2
KINDS = ("trigger", "incremental", "cycle")


def _run_kind(kind: str, ctx, progress, should_stop, kwargs: dict) -> Any:
    if kind == "trigger":
        from selflow_qt.analyze.trigger import evaluate_trigger

        return evaluate_trigger(ctx)
    if kind == "incremental":
        from selflow_qt.analyze.incremental import run_incremental

        return run_incremental(ctx, should_stop=should_stop)
    if kind == "cycle":
        from selflow_qt.analyze.cycle import run_cycle

        return run_cycle(ctx, progress=progress, should_stop=should_stop, **kwargs)
    raise ValueError(f"unknown analysis job {kind!r}")


def _serve(channel, stop, data_dir: str, idle_s: float) -> None:
    """The child: open the store once, then run jobs until the pipe closes or it idles; SIGTERM
    or the parent's end cancels the job (``stop``) and ends it within 2 s."""
    channel.on_stop(stop.set)
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.db import open_database

    db = None
    try:
        while not channel.should_stop() and channel.poll(idle_s):
            try:
                kind, settings, kwargs = channel.recv()
            except (EOFError, OSError):
                return
            channel.send("started")
            try:
                if db is None:
                    db = open_database(Path(data_dir), check=False)
                ctx = StoreContext(data_dir=Path(data_dir), settings=settings, db=db)
                result = _run_kind(
                    kind, ctx, lambda *p: channel.send("progress", p), stop.is_set, kwargs
                )
            except Cancelled:
                channel.send("cancelled")
            except BaseException as exc:  # reported to the caller, who raises it
                channel.send(
                    "error", (type(exc).__name__, str(exc), getattr(exc, "expected", False))
                )
            else:
                channel.send("result", result)
    except (EOFError, OSError, BrokenPipeError):  # the app is gone
        return
    finally:
        if db is not None:
            db.close()


class _Gone(Exception):
    def __init__(self, started: bool, exitcode: int | None) -> None:
        super().__init__(exitcode)
        self.started, self.exitcode = started, exitcode


def _error(name: str, message: str, expected: bool) -> Exception:
    """The child's exception as the caller would have seen it (its type's name and message)."""
    exc = type(name, (RuntimeError,), {})(message)
    exc.expected = expected
    return exc


class AnalysisService:
    """The parent's side: one child for ``data_dir``, one job at a time."""

    def __init__(self, data_dir: Path, idle_s: float = IDLE_EXIT_S) -> None:
        self.data_dir = Path(data_dir)
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._mp = mp.get_context("spawn")
        self._child: supervisor.Child | None = None
        self._stop = None

    @property
    def alive(self) -> bool:
        return self._child is not None and self._child.alive

    def _start(self) -> None:
        self._stop = self._mp.Event()
        self._child = supervisor.start(
            _serve,
            self._stop,
            str(self.data_dir),
            self.idle_s,
            kind="analysis",
            data_dir=self.data_dir,
            context=self._mp,
            what="the analysis process",
            daemon=False,  # the cycle starts its clusterers' processes from it
        )

    def run(
        self,
        kind: str,
        settings,
        progress: Callable[[Any], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        **kwargs,
    ) -> Any:
        """Run one job in the child; returns its result or raises what it raised."""
        with self._lock:
            for attempt in range(2):
                if not self.alive:
                    self._reap()
                    self._start()
                self._stop.clear()
                try:
                    self._child.send((kind, settings, kwargs))
                    return self._wait(progress, should_stop)
                except (BrokenPipeError, OSError):
                    gone = _Gone(False, None)
                except _Gone as g:
                    gone = g
                self._reap()
                if gone.started or attempt:
                    raise RuntimeError(
                        f"the analysis process ended during the {kind} job "
                        f"(exit code {gone.exitcode})"
                    )
        raise AssertionError("unreachable")

    def _wait(self, progress, should_stop) -> Any:
        started = False
        child = self._child
        while True:
            if should_stop is not None and should_stop():
                self._stop.set()
            message = child.recv(POLL_S)
            if message is None:
                if child.connection is None or not child.alive:
                    raise _Gone(started, child.join(1.0))
                continue
            tag, value = message
            if tag == "started":
                started = True
            elif tag == "progress":
                if progress is not None:
                    progress(value)
            elif tag == "result":
                return value
            elif tag == "cancelled":
                raise Cancelled("cancelled")
            elif tag == "error":
                raise _error(*value)

    def _reap(self) -> None:
        """Forget the child: its pipe closed, it ended (stopped if it did not within 2 s)."""
        child, self._child = self._child, None
        if child is not None:
            child.close()
            if child.join(2.0) is None:
                child.stop()
            child.poll()

    def close(self, timeout_s: float = 15.0) -> None:
        """Stop the child: a running job is asked to stop, then the pipe closes."""
        if self._stop is not None:
            self._stop.set()
        locked = self._lock.acquire(timeout=timeout_s)
        try:
            child = self._child
            if child is not None and locked:
                child.close()  # the child's next poll sees the end of the pipe
            if child is not None:
                if child.join(5.0 if locked else 0.0) is None:
                    child.stop()
                child.poll()
            if locked:
                self._child = None
        finally:
            if locked:
                self._lock.release()


_services: dict[Path, AnalysisService] = {}
_services_lock = threading.Lock()


def service_for(data_dir: Path) -> AnalysisService:
    """The data folder's analysis service (made on first use)."""
    key = Path(data_dir).resolve()
    with _services_lock:
        if key not in _services:
            _services[key] = AnalysisService(key)
        return _services[key]


def close_service(data_dir: Path) -> None:
    with _services_lock:
        service = _services.pop(Path(data_dir).resolve(), None)
    if service is not None:
        service.close()


@atexit.register  # before multiprocessing's own exit handler joins the (non-daemon) child
def close_all() -> None:
    with _services_lock:
        services = list(_services.values())
        _services.clear()
    for service in services:
        service.close()
