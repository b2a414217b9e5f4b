"""The README's Quick start, typed line by line on a fresh machine, works; the demo never doubles."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from selflow_qt.cli import main

REPO = Path(__file__).resolve().parents[3]
# `selflow train` loads a base model and trains for minutes on a shared 2-core machine (over the
# ~60 s this test allows a line); its own tests are tests/unit/agents/test_runner.py.
SKIPPED = ("selflow train ",)


def quick_start_lines() -> list[str]:
    """The commands of the Quick start's demo block, as a user would type them."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    demo = next(b for b in blocks if "selflow demo" in b)
    return [line.split("  #")[0].strip() for line in demo.splitlines() if line.strip()]


def test_the_quick_start_names_one_folder_on_every_line():
    lines = quick_start_lines()
    assert lines[0].startswith(".venv/bin/selflow demo")
    assert {"analyze", "train", "agents", "predict", "status"} <= {ln.split()[1] for ln in lines}
    folders = {re.search(r"--data-dir (\S+)", ln).group(1) for ln in lines}
    assert len(folders) == 1  # the demo and what follows it read the same folder


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_start_as_a_script_on_a_fresh_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    ran = []
    for line in quick_start_lines():
        if any(s in line for s in SKIPPED):
            continue
        done = subprocess.run(
            ["bash", "-c", line], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        ran.append(line)
    assert len(ran) >= 5
    assert (home / "selflow-demo" / "selflow.db").exists()
    assert not (home / ".local/share/selflow").exists()  # the real folder was never touched


def test_a_second_demo_into_the_same_folder_is_refused(tmp_path, capsys):
    data = tmp_path / "demo"
    argv = ["demo", "--days", "1", "--events-per-day", "60", "--data-dir", str(data)]
    assert main(argv) == 0
    first = _count(data)
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "already holds" in err
    assert _count(data) == first


def _count(data: Path) -> int:
    con = sqlite3.connect(data / "selflow.db")
    try:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()
