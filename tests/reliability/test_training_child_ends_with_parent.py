"""A training child never outlives `selflow eval next-event`: killed (SIGTERM or SIGKILL) at any
phase, its child is gone within 2 s; SIGTERM to the child itself ends it within 2 s even in a
phase with no cancel checkpoint; and the temporary folder of a run killed outright is removed at
the next start. The real CLI, the real launcher and the real child on SmolLM2-135M."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from reliability_helpers import REPO

from selflow_qt.core.event import Event
from selflow_qt.core.settings import Settings

HOME = "/home/tester"
WEIGHING = "weighing the language model"  # a long phase with no output and no cancel checkpoint
EVALUATING = "evaluating on"
TRAINING = "step 1/"  # `selflow eval` prints the first step, every 10th and the last


def _routine(n_cycles: int = 90, seed: int = 3) -> list[Event]:
    rng = random.Random(seed)
    steps = [
        ("fs", "modify", {"path": f"{HOME}/proj/app.py"}),
        ("shell", "command", {"cmd": "pytest -q", "cwd": f"{HOME}/proj"}),
        ("shell", "command", {"cmd": "git add app.py", "cwd": f"{HOME}/proj"}),
        ("shell", "command", {"cmd": 'git commit -m "wip"', "cwd": f"{HOME}/proj"}),
        ("app", "focus", {"app": "firefox"}),
    ]
    out, t = [], 1_700_000_000.0
    for _ in range(n_cycles):
        for source, action, kw in steps:
            t += rng.uniform(5, 90)
            out.append(Event(ts=t, source=source, action=action, **kw))
        t += rng.uniform(600, 3600)
    return out


class EvalRun:
    """`selflow eval next-event` in its own session, its stderr read as it comes."""

    def __init__(self, tmp_path: Path, data_dir: Path, model: Path, *, max_steps: int, lm: int):
        settings = Settings.load(data_dir)
        settings.base_model = str(model)
        settings.train_config = {"batch_size": 4, "eval_every": 10_000, "max_val": 8}
        settings.lm_positions = lm
        settings.save(data_dir)
        events = tmp_path / "events.jsonl"
        if not events.exists():
            events.write_text("".join(ev.to_json() + "\n" for ev in _routine()))
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir(exist_ok=True)
        env = {**os.environ, "TMPDIR": str(self.tmp), "OMP_WAIT_POLICY": "PASSIVE"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir), "eval", "next-event"]
            + ["--events", str(events), "--max-steps", str(max_steps), "--max-positions", "200"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
            start_new_session=True,  # killpg reaches the run and its child, nothing else
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for(self, marker: str, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout  # hang guard
        while time.monotonic() < deadline:
            if any(marker in ln for ln in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"never reached {marker!r}: {''.join(self.lines)[-2000:]}")

    def child(self) -> psutil.Process:
        kids = psutil.Process(self.proc.pid).children()
        assert len(kids) == 1, kids
        return kids[0]

    def run_folders(self) -> list[Path]:
        return [p for p in self.tmp.iterdir() if p.name.startswith("selflow-")]

    def close(self) -> None:
        for p in [self.proc.pid, *(c.pid for c in _alive_children(self.proc.pid))]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(30)


def _alive_children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _seconds_until_gone(proc: psutil.Process, limit: float = 10.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if _gone(proc):
            return time.monotonic() - t0
        time.sleep(0.05)
    return float("inf")


@pytest.mark.parametrize(
    ("sig", "phase"),
    [(signal.SIGTERM, WEIGHING), (signal.SIGKILL, TRAINING)],
    ids=["SIGTERM-while-weighing-the-LM", "SIGKILL-while-training"],
)
def test_the_training_child_is_gone_within_2s_of_its_parents_death(
    tmp_path, data_dir, smollm_dir, sig, phase
) -> None:
    run = EvalRun(
        tmp_path, data_dir, smollm_dir, max_steps=2 if phase == WEIGHING else 5000, lm=200
    )
    try:
        run.wait_for(phase)
        time.sleep(1.0)
        child = run.child()
        os.kill(run.proc.pid, sig)
        run.proc.wait(30)
        took = _seconds_until_gone(child)
        print(f"training child gone {took:.2f} s after its parent's {sig.name}")
        assert took < 2.0, f"the training child was still running {took} s after its parent died"
        assert run.run_folders() == []  # the orphan removed its job folder on its way out
    finally:
        run.close()


def test_the_training_child_ends_within_2s_of_its_own_sigterm_while_evaluating(
    tmp_path, data_dir, smollm_dir
) -> None:
    run = EvalRun(tmp_path, data_dir, smollm_dir, max_steps=2, lm=2)
    try:
        run.wait_for(EVALUATING)
        time.sleep(1.0)
        child = run.child()
        child.send_signal(signal.SIGTERM)
        took = _seconds_until_gone(child)
        print(f"training child gone {took:.2f} s after its own SIGTERM")
        assert took < 2.0, f"the training child was still running {took} s after SIGTERM"
        assert run.proc.wait(30) == 1  # the run reports the failed training
    finally:
        run.close()


def test_the_temp_folder_of_a_run_killed_outright_is_removed_at_the_next_start(
    tmp_path, data_dir, smollm_dir
) -> None:
    run = EvalRun(tmp_path, data_dir, smollm_dir, max_steps=2, lm=200)
    try:
        run.wait_for("step 2/2")  # its child is training: the run folder exists
        os.killpg(run.proc.pid, signal.SIGKILL)  # the run and its child at once: nobody cleans
        run.proc.wait(30)
        left = run.run_folders()
        assert len(left) == 1, left
    finally:
        run.close()
    again = EvalRun(tmp_path, data_dir, smollm_dir, max_steps=1, lm=2)
    try:
        again.wait_for("step 1/1")  # started, so past the sweep of dead runs' folders
        assert not left[0].exists(), f"{left[0]} was left by the killed run"
    finally:
        again.close()
