"""Run each clusterer in its own child process with a time limit; failures are recorded, not fatal.

Children come from a ``forkserver`` that preloads numpy/sklearn/hdbscan once, so starting one is
cheap and never inherits the parent's OpenMP/numba threads (fork after those can deadlock). A
child that raises reports its traceback; one past its deadline is terminated. At most
``max_parallel`` run at once (the machine's cores). A child ends with the process that started it
(``core.child``: the forkserver is its parent, the caller its owner).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import util as mp_util
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import numpy as np

from selflow_qt.analyze import clusterers
from selflow_qt.analyze.clusterers.base import REGISTRY, ClustererFn, LandmarkClusters
from selflow_qt.core.cancel import Cancelled
from selflow_qt.core.child import end_with_parent, remove_folders, run_folder

# third-party libraries the children use, then our registry package by its real import (a
# rename breaks this import, not a string the forkserver would silently skip)
PRELOAD = [
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
# selflow-run-mp-PID-XXXXXXXX/pymp-XXXXXXXX/listener-XXXXXXXX is about 70 characters.
_MAX_TEMP_ROOT = 30


def _context() -> mp.context.BaseContext:
    _private_temp_folder()
    # a frozen (PyInstaller) app re-executes itself for children: spawn is what it supports
    if not getattr(sys, "frozen", False) and "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
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


def _child(conn, fn: ClustererFn, X: np.ndarray, seed: int, threads: int, owner: int) -> None:
    end_with_parent(owner, grace_s=0)  # nothing to save: SIGTERM ends it at once
    os.environ["OMP_NUM_THREADS"] = str(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        try:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=threads):
                res = fn(X, seed)
        except ImportError:
            res = fn(X, seed)
        if not isinstance(res, LandmarkClusters):
            raise TypeError(f"clusterer returned {type(res).__name__}, not LandmarkClusters")
        if len(res.labels) != len(X):
            raise ValueError(f"clusterer returned {len(res.labels)} labels for {len(X)} points")
        res.params = {**res.params, "cpu_s": round(time.process_time() - c0, 3)}
        conn.send(("ok", res, time.perf_counter() - t0))
    except BaseException as exc:  # report everything; the parent records it
        tb = traceback.format_exc(limit=4)
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{tb}", time.perf_counter() - t0))
    finally:
        conn.close()


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
    pending = [n for n in names]
    running: dict[str, tuple[Any, Any, float]] = {}  # name -> (process, conn, started)
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
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_child,
                    args=(send, fn, X, seed, threads, os.getpid()),
                    name=f"selflow-{name}",
                )
                proc.daemon = True
                proc.start()
                send.close()
                running[name] = (proc, recv, time.perf_counter())
            if should_stop is not None and should_stop():
                raise CycleCancelled("analysis cancelled")
            now = time.perf_counter()
            next_deadline = min(started + timeout_s for _, _, started in running.values())
            ready = wait(
                [c for _, c, _ in running.values()], timeout=max(0.0, min(0.2, next_deadline - now))
            )
            for name, (proc, conn, started) in list(running.items()):
                elapsed = time.perf_counter() - started
                if conn in ready:
                    try:
                        status, payload, runtime = conn.recv()
                    except (EOFError, OSError):
                        proc.join(1.0)
                        status, payload, runtime = (
                            "error",
                            f"child process died (exit code {proc.exitcode})",
                            elapsed,
                        )
                    proc.join(5.0)
                    del running[name]
                    if status == "ok":
                        finish(AlgorithmRun(name, payload, runtime))
                    else:
                        finish(AlgorithmRun(name, None, runtime, payload.strip()))
                elif elapsed > timeout_s:
                    _stop(proc)
                    del running[name]
                    finish(AlgorithmRun(name, None, elapsed, f"timed out after {timeout_s:g} s"))
    finally:
        for proc, _conn, _ in running.values():
            _stop(proc)
    return {n: done[n] for n in names if n in done}


def _stop(proc) -> None:
    proc.terminate()
    proc.join(2.0)
    if proc.is_alive():
        proc.kill()
        proc.join(2.0)


def _job_child(conn, fn: Callable, args: tuple, owner: int) -> None:
    end_with_parent(owner, grace_s=0)
    c0 = time.process_time()
    try:
        value = fn(*args)
        conn.send(("ok", value, time.process_time() - c0))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}", time.process_time() - c0))
    finally:
        conn.close()


class BackgroundJob:
    """One function in a child process (e.g. the 2-D UMAP while the clusterers run)."""

    def __init__(self, fn: Callable, *args: Any) -> None:
        ctx = _context()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_job_child, args=(send, fn, args, os.getpid()), daemon=True)
        self._proc.start()
        send.close()
        self.started = time.perf_counter()
        self.cpu_s = 0.0

    def result(self, timeout_s: float) -> tuple[Any, str | None]:
        """(value, None) or (None, error); a job past ``timeout_s`` (from its start) is stopped."""
        left = max(0.0, timeout_s - (time.perf_counter() - self.started))
        try:
            if self._recv.poll(left):
                status, payload, self.cpu_s = self._recv.recv()
                self._proc.join(5.0)
                return (payload, None) if status == "ok" else (None, payload)
            return None, f"timed out after {timeout_s:g} s"
        except (EOFError, OSError):
            return None, f"child process died (exit code {self._proc.exitcode})"
        finally:
            if self._proc.is_alive():
                _stop(self._proc)

    def cancel(self) -> None:
        if self._proc.is_alive():
            _stop(self._proc)
