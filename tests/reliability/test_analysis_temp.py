"""A killed analysis leaves no temporary folder for good (issue 27): multiprocessing's ``pymp-*``
folder (the forkserver's socket) is removed only at a clean exit, so it lives in a run folder
named after the analysis process, which the next analysis removes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_helpers import REPO, run_selflow


def _pymp(tmp: Path) -> list[Path]:
    return list(tmp.rglob("pymp-*"))


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temp folder with a short path, as /tmp is (a socket's path must stay short)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp" if os.path.isdir("/tmp") else None))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_killed_analysis_leaves_no_temp_folder_after_the_next_one(
    tmp_path: Path, short_tmp: Path
) -> None:
    data, tmp = tmp_path / "data", short_tmp
    env = {"TMPDIR": str(tmp)}
    assert run_selflow(data, "demo", "--days", "3", env=env).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "selflow_qt", "--data-dir", str(data), "analyze"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180  # hang guard
        while not _pymp(tmp):
            assert proc.poll() is None, "the analysis ended before its forkserver started"
            assert time.monotonic() < deadline, "no forkserver folder appeared"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI, the analysis process, the forkserver
        proc.wait(30)
    again = run_selflow(data, "analyze", env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp.iterdir()) == []
