"""`selflow import ...` on the command line: errors go to stderr with exit code 2, nothing written."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from selflow_qt.cli import main

GOOD = json.dumps({"ts": 1_700_000_000, "source": "fs", "action": "create", "path": "/w/a"})
BAD = json.dumps({"ts": 1_700_000_001, "source": "fs"})


def count(data_dir: Path) -> int:
    db = data_dir / "selflow.db"
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(f"{GOOD}\n{GOOD.replace('/w/a', '/w/b')}\n{BAD}\n")
    return path


def test_error_goes_to_stderr_with_exit_code_2(data_dir: Path, bad_file: Path, capsys) -> None:
    rc = main(["--data-dir", str(data_dir), "import", "jsonl", str(bad_file)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.splitlines()[0] == f"selflow: {bad_file}:3: missing required key 'action'"
    assert "nothing was imported" in err
    assert count(data_dir) == 0


def test_skip_bad_reports_and_imports_the_rest(data_dir: Path, bad_file: Path, capsys) -> None:
    rc = main(["import", "jsonl", str(bad_file), "--skip-bad"])  # SELFLOW_DATA_DIR is set
    out, err = capsys.readouterr()
    assert rc == 0
    assert f"selflow: skipped {bad_file}:3: missing required key 'action'" in err
    assert "imported 2 events" in out and "skipped 1" in out
    assert count(data_dir) == 2


def test_data_dir_after_the_command(data_dir: Path, tmp_path: Path, bad_file: Path, capsys) -> None:
    other = tmp_path / "other"
    rc = main(["import", "jsonl", str(bad_file), "--skip-bad", "--data-dir", str(other)])
    assert rc == 0
    assert count(other) == 2
    assert count(data_dir) == 0


def test_unknown_kind_is_a_usage_error(data_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["import", "csv", "x.csv"])
    assert info.value.code == 2


def test_real_selflow_process_reports_error_and_writes_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    exe = Path(sys.executable).with_name("selflow")
    assert exe.exists(), "the selflow console script is installed in the venv"
    history = tmp_path / ".zsh_history"
    history.write_bytes(b": 1700000000:0;ls\n: 1700000001:0;pwd\n: oops:0;rm x\n")
    proc = subprocess.run(
        [str(exe), "--data-dir", str(data_dir), "import", "shell", str(history)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"selflow: {history}:3: malformed zsh extended-history header")
    assert count(data_dir) == 0
    ok = subprocess.run(
        [str(exe), "--data-dir", str(data_dir), "import", "shell", "--skip-bad", str(history)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert count(data_dir) == 2


def test_invalid_redaction_pattern_in_settings_is_reported(
    data_dir: Path, bad_file: Path, capsys
) -> None:
    (data_dir / "settings.json").write_text('{"redact_patterns": ["(unclosed"]}')
    assert main(["import", "jsonl", str(bad_file), "--skip-bad"]) == 2
    assert "redaction pattern '(unclosed' is invalid" in capsys.readouterr().err
    assert count(data_dir) == 0


def test_killed_import_leaves_all_or_nothing(data_dir: Path, tmp_path: Path) -> None:
    """SIGKILL at some point of a large import: the database is intact with 0 or all events."""
    import signal
    import time

    n = 150_000
    path = tmp_path / "big.jsonl"
    with path.open("w") as f:
        for i in range(n):
            f.write(GOOD.replace("1700000000", str(1_700_000_000 + i)) + "\n")
    exe = Path(sys.executable).with_name("selflow")
    proc = subprocess.Popen([str(exe), "--data-dir", str(data_dir), "import", "jsonl", str(path)])
    wal = data_dir / "selflow.db-wal"
    deadline = time.monotonic() + 120
    # Kill it once the write has begun (the WAL grows past a few MB), or whenever it ends.
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 4_000_000:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    con = sqlite3.connect(data_dir / "selflow.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] in (0, n)
    finally:
        con.close()
