"""The one worker abstraction: signals in order, hooks, errors, cancellation, waiting on quit."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from selflow_qt.workers.worker import Worker, run_in_worker, start_worker


def test_result_arrives_on_the_gui_thread_after_started(qtbot):
    seen: list = []
    gui = QThread.currentThread()

    def job(x, y):
        return (x + y, threading.current_thread().name)

    w = Worker(job, 2, y=3)
    w.signals.started.connect(lambda: seen.append("started"))
    w.signals.result.connect(
        lambda v: seen.append(("result", v[0], QThread.currentThread() is gui))
    )
    with qtbot.waitSignal(w.signals.finished, timeout=5000):
        start_worker(w)
    assert seen == ["started", ("result", 5, True)]
    assert w.is_done


def test_progress_partial_and_should_stop_are_passed_when_accepted(qtbot):
    progress: list = []
    partial: list = []

    def job(n, progress, partial, should_stop):
        for i in range(n):
            progress(i / n)
            partial([i])
        return should_stop()

    results: list = []
    w = run_in_worker(
        job, 4, on_progress=progress.append, on_partial=partial.append, on_result=results.append
    )
    qtbot.waitUntil(lambda: w.is_done and bool(results), timeout=5000)
    qtbot.waitUntil(lambda: len(progress) == 4, timeout=2000)
    assert progress == [0.0, 0.25, 0.5, 0.75]
    assert partial == [[0], [1], [2], [3]]
    assert results == [False]


def test_a_pass_through_kwargs_function_gets_no_hooks(qtbot):
    def read(**kwargs):
        return sorted(kwargs)

    results: list = []
    w = run_in_worker(read, on_result=results.append, limit=3)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == [["limit"]] and w.is_done


def test_an_exception_becomes_an_error_message_with_its_type(qtbot):
    def job():
        raise ValueError("bad input on line 3")

    errors: list = []
    results: list = []
    w = run_in_worker(job, on_error=errors.append, on_result=results.append)
    qtbot.waitUntil(lambda: w.is_done and bool(errors), timeout=5000)
    assert errors == ["ValueError: bad input on line 3"]
    assert results == []


def test_cancel_reaches_the_job_and_wait_all_returns(qtbot):
    started = threading.Event()

    def job(should_stop):
        started.set()
        while not should_stop():
            time.sleep(0.01)
        return "stopped"

    results: list = []
    w = run_in_worker(job, on_result=results.append)
    assert started.wait(5)
    assert w in Worker.running()
    w.cancel()
    assert w.is_cancelled
    assert Worker.wait_all(5000)
    qtbot.waitUntil(lambda: results == ["stopped"], timeout=2000)
    qtbot.waitUntil(lambda: w not in Worker.running(), timeout=2000)
