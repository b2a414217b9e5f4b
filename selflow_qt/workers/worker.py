"""The one background-work abstraction: a QRunnable built from a plain function, with signals."""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from selflow_qt.core.cancel import Cancelled

log = logging.getLogger(__name__)

_HOOKS = ("progress", "partial", "should_stop")


class WorkerSignals(QObject):
    """Signals of one Worker; they live on the GUI thread so receivers run there."""

    started = Signal()
    progress = Signal(object)
    partial = Signal(object)
    result = Signal(object)
    error = Signal(str)
    cancelled = Signal()  # the job stopped at a should_stop() checkpoint (core.cancel.Cancelled)
    finished = Signal()


class Worker(QRunnable):
    """Runs ``fn(*args, **kwargs)`` on a pool thread and reports through ``signals``.

    If ``fn`` accepts keyword arguments named ``progress``, ``partial`` or ``should_stop`` it gets
    callables that emit the matching signal or report cancellation. Running workers are kept
    alive by a class-level set until their ``finished`` signal has been emitted.
    """

    _running: set[Worker] = set()
    _lock = threading.Lock()

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.args = args
        self.kwargs = dict(kwargs)
        self.signals = WorkerSignals()
        self.name = getattr(fn, "__name__", "job")
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._accepts = _accepted_hooks(fn)

    # -- control -------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop at its next ``should_stop()`` checkpoint."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def is_done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._done.wait(timeout_s)

    # -- run -----------------------------------------------------------------------------------
    def run(self) -> None:  # called on a pool thread
        sig = self.signals
        kwargs = dict(self.kwargs)
        if "progress" in self._accepts:
            kwargs["progress"] = lambda *v: sig.progress.emit(v[0] if len(v) == 1 else v)
        if "partial" in self._accepts:
            kwargs["partial"] = sig.partial.emit
        if "should_stop" in self._accepts:
            kwargs["should_stop"] = self._cancel.is_set
        try:
            sig.started.emit()
            value = self.fn(*self.args, **kwargs)
        except Cancelled:
            try:
                sig.cancelled.emit()
            except RuntimeError:
                pass
        except BaseException as exc:  # a job must report, never vanish
            if getattr(exc, "expected", False):  # e.g. a feature not installed: no traceback
                log.info("worker %s: %s", self.name, exc)
            else:
                log.exception("worker %s failed", self.name)
            try:
                sig.error.emit(f"{type(exc).__name__}: {exc}")
            except RuntimeError:  # signals object already gone at shutdown
                pass
        else:
            try:
                sig.result.emit(value)
            except RuntimeError:
                pass
        finally:
            self._done.set()
            try:
                sig.finished.emit()
            except RuntimeError:
                pass

    @classmethod
    def running(cls) -> list[Worker]:
        with cls._lock:
            return list(cls._running)

    @classmethod
    def wait_all(cls, timeout_ms: int = 30_000) -> bool:
        """Cancel nothing, just wait (processing events) until every started worker is done."""
        deadline = time.monotonic() + timeout_ms / 1000
        app = QCoreApplication.instance()
        while True:
            pending = [w for w in cls.running() if not w.is_done]
            if not pending:
                if app is not None:
                    app.processEvents()
                return True
            if time.monotonic() > deadline:
                log.warning("still running at quit: %s", ", ".join(w.name for w in pending))
                return False
            if app is not None:
                app.processEvents()
            pending[0].wait(0.05)

    def _register(self) -> None:
        with Worker._lock:
            Worker._running.add(self)
        self.signals.finished.connect(self._forget)

    def _forget(self) -> None:
        with Worker._lock:
            Worker._running.discard(self)


def _accepted_hooks(fn: Callable[..., Any]) -> set[str]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return set()
    # Only parameters named explicitly: a pass-through **kwargs must not receive the hooks.
    return {
        name
        for name in _HOOKS
        if name in params and params[name].kind is not inspect.Parameter.POSITIONAL_ONLY
    }


def start_worker(worker: Worker, pool: QThreadPool | None = None) -> Worker:
    """Keep ``worker`` alive and start it on ``pool`` (the global pool by default)."""
    worker._register()
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def run_in_worker(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    on_partial: Callable[[Any], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    on_cancelled: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Worker:
    """Build a Worker for ``fn``, connect the given callbacks and start it."""
    w = Worker(fn, *args, **kwargs)
    if on_result is not None:
        w.signals.result.connect(on_result)
    if on_error is not None:
        w.signals.error.connect(on_error)
    if on_progress is not None:
        w.signals.progress.connect(on_progress)
    if on_partial is not None:
        w.signals.partial.connect(on_partial)
    if on_finished is not None:
        w.signals.finished.connect(on_finished)
    if on_cancelled is not None:
        w.signals.cancelled.connect(on_cancelled)
    return start_worker(w, pool)
