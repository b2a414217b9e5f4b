"""Failure 4: hostile or broken input. Deep nesting, NaN, huge fields, adversarial commands,
a malformed history line and a folder instead of a file are each handled alone and clearly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import REPO, rows, run_selflow

from selflow_qt.collect.shell import ShellCollector
from selflow_qt.core.event import Event
from selflow_qt.store.db import db_path_for, open_database
from selflow_qt.store.writer import EventWriter

GOOD = {"ts": 1.7e9, "source": "shell", "action": "command", "cmd": "ls"}


def _line(**kw) -> str:
    return json.dumps({**GOOD, **kw}) + "\n"


def test_nesting_nan_and_huge_lines_are_reported_alone(tmp_path: Path) -> None:
    data, src = tmp_path / "data", tmp_path / "in.jsonl"
    deep = '{"ts": 1.7e9, "source": "shell", "action": "x", "meta": ' + "[" * 100_000
    deep += "]" * 100_000 + "}\n"
    lines = [
        _line(cmd="first"),
        deep,
        '{"ts": 1.7e9, "source": "shell", "action": "x", "meta": {"v": NaN}}\n',
        '{"ts": 1.7e9, "source": "shell", "action": "x", "meta": {"v": [Infinity]}}\n',
        _line(cmd="y" * 3_000_000),  # one 3 MB line
        _line(cmd="last", ts=1.7e9 + 1),
    ]
    src.write_text("".join(lines))
    proc = run_selflow(data, "import", "jsonl", str(src), "--skip-bad")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    for n, word in ((2, "nested"), (3, "NaN"), (4, "Infinity"), (5, "longer than")):
        assert f"{src}:{n}:" in proc.stderr and word in proc.stderr, proc.stderr
    db = db_path_for(data)
    assert rows(db, "SELECT cmd FROM events ORDER BY ts") == [("first",), ("last",)]
    assert rows(db, "SELECT count(*) FROM events WHERE NOT json_valid(meta)") == [(0,)]


def test_a_huge_field_is_cut_and_marked(data_dir: Path) -> None:
    open_database(data_dir).close()
    writer = EventWriter(db_path_for(data_dir)).start()
    big = "z" * 50_000_000
    assert writer.submit(Event(ts=1.7e9, source="shell", action="command", cmd=big))
    assert writer.submit(Event(ts=1.7e9 + 1, source="app", action="x", meta={"v": float("nan")}))
    writer.close()
    (cmd, meta), (meta2,) = (
        rows(db_path_for(data_dir), "SELECT cmd, meta FROM events")[0],
        (rows(db_path_for(data_dir), "SELECT meta FROM events WHERE source = 'app'")[0]),
    )
    assert len(cmd) <= 65_536
    assert json.loads(meta)["truncated"] == {"cmd": 50_000_000}
    assert json.loads(meta2) == {"v": None}  # stored as valid JSON


@pytest.mark.parametrize("shape", ["pass", "mysql ", "PASSWORD_"])
def test_redaction_is_linear_on_adversarial_commands(shape: str) -> None:
    """128 KB built from a rule's own trigger (the old rules took 16 s and more on these)."""
    text = (shape * (131_072 // len(shape) + 1))[:131_072]
    code = (
        "import sys; from selflow_qt.core.privacy import PrivacyFilter; "
        "PrivacyFilter().redact(sys.stdin.read()); print('done')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,  # hang guard: linear redaction takes well under a second
        cwd=REPO,
    )
    assert proc.stdout.strip() == "done", proc.stderr


def test_a_malformed_history_line_is_skipped_alone_and_not_echoed(tmp_path: Path) -> None:
    history = tmp_path / ".zsh_history"
    history.write_text(": 1700000000:0;echo start\n")
    collector = ShellCollector([history], poll_seconds=0.1)
    collector._refresh_tails(first=True)
    emitted: list[Event] = []
    with history.open("a") as f:
        f.write(": 1700000001:0;git status\n")
        f.write(": 17000x0002:zz;curl -u admin:S3cretHistoryPw https://x\n")
        f.write(": 1700000003:0;make test\n")
    deadline = time.monotonic() + 10
    while len(emitted) < 2 and time.monotonic() < deadline:
        collector.poll(emitted.append)
    assert [e.cmd for e in emitted] == ["git status", "make test"]
    state, detail = collector.status()
    assert "line 3" in detail and "skipped" in detail
    assert "S3cretHistoryPw" not in detail and "admin" not in detail


def test_a_folder_given_to_import_says_so(tmp_path: Path) -> None:
    proc = run_selflow(tmp_path / "data", "import", "jsonl", str(tmp_path))
    assert proc.returncode == 2 and "is a folder" in proc.stderr, proc.stderr


def test_a_deeply_nested_activitywatch_export_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "aw.json"
    event = '{"timestamp": "2024-01-01T00:00:00Z", "data": ' + "[" * 100_000 + "]" * 100_000
    src.write_text('{"buckets": {"b": {"type": "x", "events": [' + event + "}]}}}")
    proc = run_selflow(tmp_path / "data", "import", "activitywatch", str(src))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "nested" in proc.stderr
