"""``core.child``: a child ends within 2 s of its parent's death or of SIGTERM, even inside one
long C call; a parent's worker thread ending does not end it; clusterer children end with the
process that started them; a run folder is removed once its owner is gone; a failing refit child
leaves a log and a notification."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
from reliability_helpers import REPO

from selflow_qt.core.child import run_folder, sweep_run_folders


def _python(code: str, tmp_path: Path, **kwargs) -> subprocess.Popen:
    script = tmp_path / f"script-{abs(hash(code)) % 100_000}.py"
    script.write_text(textwrap.dedent(code))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO)])
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
        start_new_session=True,
        **kwargs,
    )


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _seconds_until_gone(pids: list[int], limit: float = 10.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if all(_gone(p) for p in pids):
            return time.monotonic() - t0
        time.sleep(0.05)
    return float("inf")


def _kill_all(*procs: subprocess.Popen, pids: tuple[int, ...] = ()) -> None:
    for pid in [p.pid for p in procs] + list(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in procs:
        p.wait(30)


CHILD_IN_A_LONG_C_CALL = """
    import sys, time
    from selflow_qt.core.child import end_with_parent
    end_with_parent()
    import numpy as np
    a = np.random.default_rng(0).random((3000, 3000))
    print("busy", flush=True)
    while True:
        a @ a  # seconds inside one C call (the GIL released), where no Python handler runs
"""


def test_a_child_inside_one_long_c_call_ends_within_2s_of_sigterm(tmp_path) -> None:
    child = _python(CHILD_IN_A_LONG_C_CALL, tmp_path)
    try:
        assert child.stdout.readline().strip() == "busy"
        time.sleep(0.5)
        child.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        code = child.wait(10)
        took = time.monotonic() - t0
        assert took < 2.0, took
        assert code == 128 + signal.SIGTERM
    finally:
        _kill_all(child)


PARENT_STARTS_FROM_A_THREAD = """
    import os, subprocess, sys, threading, time
    from selflow_qt.core.child import child_env
    kid = []
    script = os.path.join(os.path.dirname(__file__), "child.py")
    def start():
        kid.append(subprocess.Popen([sys.executable, script], env=child_env()))
    t = threading.Thread(target=start)
    t.start()
    t.join()  # the thread that started the child is gone; its process lives on
    print(kid[0].pid, flush=True)
    time.sleep(600)
"""


def test_a_child_outlives_the_parents_thread_that_started_it_but_not_the_parent(tmp_path) -> None:
    (tmp_path / "child.py").write_text(textwrap.dedent(CHILD_IN_A_LONG_C_CALL))
    parent = _python(PARENT_STARTS_FROM_A_THREAD, tmp_path)
    kid = int(parent.stdout.readline())
    try:
        time.sleep(3.0)
        assert not _gone(kid), "the child ended when its parent's thread ended"
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        took = _seconds_until_gone([kid])
        assert took < 2.0, f"the child was still running {took} s after its parent died"
    finally:
        _kill_all(parent, pids=(kid,))


SLOW_CLUSTERER = """
    import os, time
    def slow(X, seed):
        with open(os.environ["SLOW_MARK"], "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(600)
"""

PARENT_RUNS_CLUSTERERS = """
    import numpy as np
    import slow_clusterer
    from selflow_qt.analyze.clusterers import register
    from selflow_qt.analyze.clusterers.runner import BackgroundJob, run_clusterers
    if __name__ == "__main__":
        register("slow", slow_clusterer.slow)
        job = BackgroundJob(slow_clusterer.slow, None, 0)  # the 2-D view's kind of child
        run_clusterers(np.random.default_rng(0).random((60, 3)), ["slow"], timeout_s=600)
"""


def test_clusterer_children_end_with_the_process_that_started_them(tmp_path) -> None:
    (tmp_path / "slow_clusterer.py").write_text(textwrap.dedent(SLOW_CLUSTERER))
    marks = tmp_path / "mark"
    os.environ["SLOW_MARK"] = str(marks)  # read by both children (one file, two writes)
    try:
        parent = _python(PARENT_RUNS_CLUSTERERS, tmp_path)
    finally:
        del os.environ["SLOW_MARK"]
    deadline = time.monotonic() + 120  # hang guard
    family: list[int] = []
    try:
        while time.monotonic() < deadline and not marks.exists():
            time.sleep(0.2)
        time.sleep(1.0)
        family = [k.pid for k in psutil.Process(parent.pid).children(recursive=True)]
        assert marks.exists() and len(family) >= 3, "the clusterers never started"
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
        took = _seconds_until_gone(family)
        left = [psutil.Process(p).cmdline() for p in family if not _gone(p)]
        assert took < 2.0, f"still running {took} s after their parent died: {left}"
    finally:
        _kill_all(parent, pids=tuple(family))


def test_a_run_folder_is_removed_once_its_owner_is_gone(tmp_path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    dead = tmp_path / f"selflow-run-eval-{gone}-abc123"
    dead.mkdir()
    (dead / "events.jsonl").write_text("{}\n")
    mine = run_folder("eval", tmp_path)  # sweeps first
    assert mine.name.startswith(f"selflow-run-eval-{os.getpid()}-")
    assert not dead.exists()
    other = tmp_path / "selflow-selftest-x1"  # not a run folder: never touched
    other.mkdir()
    assert sweep_run_folders(tmp_path) == [] and mine.exists() and other.exists()


def test_a_failing_refit_child_is_logged_and_notified(store, tmp_path) -> None:
    from selflow_qt.agents.serving.refit import start_refit
    from selflow_qt.store.models import Notification

    folder = tmp_path / "agent-broken"
    folder.mkdir()  # no ranker state: the refit cannot load the agent
    child = start_refit(store.data_dir, folder)
    out = child.wait(timeout=120)
    assert out is not None and out.code == 1
    assert "failed: FileNotFoundError" in out.log.read_text(encoding="utf-8")
    note = Notification.get(Notification.title == "Refit failed: agent-broken")
    assert "FileNotFoundError" in note.body and str(out.log) in note.body
    child.poll()
    assert Notification.select().count() == 1  # recorded once
