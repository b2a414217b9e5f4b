"""Run each clusterer in its own child process with a time limit; failures are recorded, not fatal.

Children come from a ``forkserver`` that preloads numpy/sklearn/hdbscan once, so starting one is
cheap and never inherits the parent's OpenMP/numba threads (fork after those can deadlock). Each
is run by ``core.supervisor``: a child that raises reports why in one line; one past its time
limit is stopped. At most ``max_parallel`` run at once (the machine's cores). A child ends with
the process that started it (the forkserver is its parent, the caller its owner).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing import util as mp_util
from pathlib import Path
from typing import Any

import numpy as np

from selflow_qt.analyze import clusterers
from selflow_qt.analyze.clusterers import forkserver_guard
from selflow_qt.analyze.clusterers.base import REGISTRY, ClustererFn, LandmarkClusters
from selflow_qt.core import supervisor
from selflow_qt.core.cancel import Cancelled
from selflow_qt.core.child import remove_folders, run_folder

# third-party libraries the children use, then our registry package by its real import (a
# rename breaks this import, not a string the forkserver would silently skip)
PRELOAD = [
    forkserver_guard.__name__,  # first: the forkserver ends with the analysis process
    "numpy",
    "scipy.sparse",
    "sklearn.cluster",
    "sklearn.mixture",
    "sklearn.neighbors",
    "hdbscan",
    clusterers.__name__,
]


class CycleCancelled(Cancelled):
    """The caller asked the cycle to stop."""


@dataclass
class AlgorithmRun:
    name: str
    result: LandmarkClusters | None
    runtime_s: float
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _private_temp_folder() -> None:
    """Put this process's temporary files (multiprocessing's ``pymp-*`` folder with the
    forkserver's socket among them) in a run folder of its own, removed at exit. multiprocessing
    removes its folder only at a clean exit: every killed analysis left one in the temp folder
    for good. A killed run's folder is named after its pid, so the next start removes it."""
    global _RUN_TEMP
    if _RUN_TEMP is not None or len(tempfile.gettempdir()) > _MAX_TEMP_ROOT:
        return  # a long temp path would push the socket's past AF_UNIX's limit (104-108)
    _RUN_TEMP = run_folder("mp")
    tempfile.tempdir = str(_RUN_TEMP)
    # After multiprocessing's own exit cleanup (priority -100 removes its pymp-* folder): an
    # atexit hook would run before it, and its removal would then print a traceback.
    mp_util.Finalize(None, remove_folders, args=([_RUN_TEMP],), exitpriority=-200)


_RUN_TEMP: Path | None = None
# selflow-run-mp-PID-XXXXXXXX/pymp-XXXXXXXX/listener-XXXXXXXX: about 64 characters past the
# temp folder, which AF_UNIX allows up to 104 (macOS) or 108 (Linux).
_MAX_TEMP_ROOT = 40


def _context() -> mp.context.BaseContext:
    _private_temp_folder()
    # a frozen (PyInstaller) app re-executes itself for children: spawn is what it supports
    if not getattr(sys, "frozen", False) and "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        os.environ[forkserver_guard.PARENT_ENV] = str(os.getpid())
        return ctx
    return mp.get_context("spawn")


def warm_up() -> None:
    """Start the forkserver early (it imports sklearn while the parent computes features).

    The forkserver must never run OpenMP code itself (a fork after that aborts), so it only
    imports; UMAP's numba code is compiled in the child that computes the 2-D view.
    """
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _fit(channel, fn: ClustererFn, X: np.ndarray, seed: int, threads: int):
    """In the child: ``fn(X, seed)`` on ``threads`` threads; (its clusters, seconds)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=threads)
    except ImportError:
        limits = nullcontext()
    with limits:
        res = fn(X, seed)
    if not isinstance(res, LandmarkClusters):
        raise TypeError(f"clusterer returned {type(res).__name__}, not LandmarkClusters")
    if len(res.labels) != len(X):
        raise ValueError(f"clusterer returned {len(res.labels)} labels for {len(X)} points")
    res.params = {**res.params, "cpu_s": round(time.process_time() - c0, 3)}
    return res, time.perf_counter() - t0


def run_clusterers(
    X: np.ndarray,
    names: list[str] | None = None,
    *,
    seed: int = 0,
    timeout_s: float = 60.0,
    max_parallel: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_done: Callable[[AlgorithmRun], None] | None = None,
) -> dict[str, AlgorithmRun]:
    """Fit every named clusterer on ``X``; each result or failure is in the returned dict."""
    names = list(REGISTRY) if names is None else names
    max_parallel = max_parallel or max(1, min(len(names), os.cpu_count() or 1))
    threads = max(1, (os.cpu_count() or 1) // max_parallel)
    ctx = _context()
    pending = list(names)
    running: dict[str, supervisor.Child] = {}
    done: dict[str, AlgorithmRun] = {}

    def finish(run: AlgorithmRun) -> None:
        done[run.name] = run
        if on_done is not None:
            on_done(run)

    try:
        while pending or running:
            while pending and len(running) < max_parallel:
                name = pending.pop(0)
                fn = REGISTRY.get(name)
                if fn is None:
                    finish(AlgorithmRun(name, None, 0.0, f"no clusterer named {name!r}"))
                    continue
                running[name] = supervisor.start(
                    _fit,
                    fn,
                    X,
                    seed,
                    threads,
                    kind=name,
                    context=ctx,
                    what=f"the {name} clusterer",
                    time_limit_s=timeout_s,
                    grace_s=0,
                )
            if should_stop is not None and should_stop():
                raise CycleCancelled("analysis cancelled")
            supervisor.wait_any(running.values(), 0.2)
            for name, child in list(running.items()):
                out = child.poll()
                if out is not None:
                    del running[name]
                    finish(_algorithm_run(name, out, time.monotonic() - child.started, timeout_s))
    finally:
        for child in running.values():
            child.stop()
    return {n: done[n] for n in names if n in done}


def _algorithm_run(
    name: str, out: supervisor.ChildExit, elapsed: float, timeout_s: float
) -> AlgorithmRun:
    if out.ok:
        res, runtime = out.result
        return AlgorithmRun(name, res, runtime)
    if out.reason == supervisor.TIMED_OUT:
        return AlgorithmRun(name, None, elapsed, f"timed out after {timeout_s:g} s")
    return AlgorithmRun(name, None, elapsed, out.message)


def _call(channel, fn: Callable, *args: Any) -> tuple[Any, float]:
    c0 = time.process_time()
    value = fn(*args)
    return value, time.process_time() - c0


class BackgroundJob:
    """One function in a child process (e.g. the 2-D UMAP while the clusterers run)."""

    def __init__(self, fn: Callable, *args: Any) -> None:
        self._child = supervisor.start(
            _call, fn, *args, kind="background", context=_context(), grace_s=0
        )
        self.cpu_s = 0.0

    def result(self, timeout_s: float) -> tuple[Any, str | None]:
        """(value, None) or (None, error); a job past ``timeout_s`` (from its start) is stopped."""
        left = max(0.0, timeout_s - (time.monotonic() - self._child.started))
        out = self._child.wait(timeout=left)
        if out is None:
            self._child.stop()
            return None, f"timed out after {timeout_s:g} s"
        if not out.ok:
            return None, out.message
        value, self.cpu_s = out.result
        return value, None

    def cancel(self) -> None:
        if self._child.exit is None:
            self._child.stop()
