"""The GUI thread keeps turning while heavy work runs on workers (a generous anti-hang bound).

A 20 ms QTimer on the GUI thread records the gaps between its ticks; while an import, an
analysis cycle and a short training run through AppState, the longest gap must stay under 2 s.
That is an anti-hang guard, not a speed target: any of these jobs run on the GUI thread would
block it for tens of seconds. (Measured on the shared 2-core machine at a load average of ~9:
0.77-0.97 s, the worker holding the GIL while descheduled; an idle loop there shows 41 ms.)
"""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QTimer

MAX_GAP_S = 2.0


class GapMeter:
    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def __enter__(self) -> GapMeter:
        self.ticks = [time.perf_counter()]
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.stop()
        self.ticks.append(time.perf_counter())

    @property
    def max_gap(self) -> float:
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False))


def test_gui_turns_while_a_large_import_runs(qtbot, shell_state, tmp_path):
    f = tmp_path / "big.jsonl"
    t = time.time() - 86_400
    with f.open("w") as fh:
        for i in range(60_000):
            rec = {
                "ts": t + i,
                "source": "fs",
                "action": "modify",
                "path": f"/home/u/p/{i % 500}.py",
            }
            fh.write(json.dumps(rec) + "\n")
    with GapMeter() as meter, qtbot.waitSignal(shell_state.importFinished, timeout=120_000) as b:
        shell_state.import_paths([str(f)])
    assert b.args[0].total == 60_000
    assert len(meter.ticks) > 10
    print(f"longest GUI-thread gap: {meter.max_gap * 1000:.0f} ms over {len(meter.ticks)} ticks")
    assert meter.max_gap < MAX_GAP_S, f"GUI thread stalled for {meter.max_gap:.2f} s"


def test_gui_turns_during_an_analysis_cycle(qtbot, shell_state):
    stages: list = []
    shell_state.analysisProgress.connect(lambda s, f: stages.append((s, f)))
    with GapMeter() as meter, qtbot.waitSignal(shell_state.analysisFinished, timeout=400_000):
        assert shell_state.start_analysis()
    assert stages, "the cycle reported its progress"
    print(f"longest GUI-thread gap: {meter.max_gap * 1000:.0f} ms over {len(meter.ticks)} ticks")
    assert meter.max_gap < MAX_GAP_S, f"GUI thread stalled for {meter.max_gap:.2f} s"


@pytest.mark.slow
def test_gui_turns_during_a_short_training(qtbot, fast_training):
    from selflow_qt.agents.training.runner import queue_training

    shell_state = fast_training
    session = queue_training(shell_state.job_context(), workflow="coding")
    progress: list = []
    shell_state.trainingProgress.connect(progress.append)
    with GapMeter() as meter, qtbot.waitSignal(shell_state.trainingFinished, timeout=400_000) as b:
        assert shell_state.start_training(session, max_steps=3)
    assert b.args[0].status == "completed", getattr(b.args[0], "error", "")
    assert progress
    print(f"longest GUI-thread gap: {meter.max_gap * 1000:.0f} ms over {len(meter.ticks)} ticks")
    assert meter.max_gap < MAX_GAP_S, f"GUI thread stalled for {meter.max_gap:.2f} s"
