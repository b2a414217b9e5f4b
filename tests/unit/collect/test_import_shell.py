"""`selflow import shell`: bash, zsh and fish history become shell/command events."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from selflow_qt.collect.importers import ImportFormatError, import_file
from selflow_qt.store.context import StoreContext


def events(db_path: Path) -> list[dict]:
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM events ORDER BY id")]
    finally:
        con.close()


def write(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_bash_without_times_is_spread_before_the_mtime(store: StoreContext, tmp_path: Path) -> None:
    path = write(tmp_path / ".bash_history", b"ls -la\ncd src\n\nmake test\n", mtime=1_700_000_000)
    report = import_file(store, "shell", path)
    assert report.imported == 3
    rows = events(store.db_path)
    assert [r["cmd"] for r in rows] == ["ls -la", "cd src", "make test"]
    assert [r["ts"] for r in rows] == [1_699_999_997, 1_699_999_998, 1_699_999_999]
    assert {(r["source"], r["action"]) for r in rows} == {("shell", "command")}
    meta = json.loads(rows[0]["meta"])
    assert meta == {"shell": "bash", "imported_from": str(path.resolve()), "ts_estimated": True}


def test_bash_with_timestamps_keeps_them(store: StoreContext, tmp_path: Path) -> None:
    path = write(tmp_path / ".bash_history", b"#1700000100\ngit status\n#1700000160\ngit push\n")
    import_file(store, "shell", path)
    rows = events(store.db_path)
    assert [(r["ts"], r["cmd"]) for r in rows] == [
        (1700000100, "git status"),
        (1700000160, "git push"),
    ]
    assert "ts_estimated" not in json.loads(rows[0]["meta"])


def test_zsh_extended_history_with_durations_and_continuations(
    store: StoreContext, tmp_path: Path
) -> None:
    data = b": 1700000000:3;make build\n: 1700000010:0;echo one \\\ntwo\n: 1700000020:1;ls\n"
    import_file(store, "shell", write(tmp_path / ".zsh_history", data))
    rows = events(store.db_path)
    assert [(r["ts"], r["cmd"], r["duration"]) for r in rows] == [
        (1700000000, "make build", 3.0),
        (1700000010, "echo one \ntwo", 0.0),
        (1700000020, "ls", 1.0),
    ]
    assert json.loads(rows[0]["meta"])["shell"] == "zsh"


def test_fish_history(store: StoreContext, tmp_path: Path) -> None:
    data = (
        b"- cmd: cargo build\n  when: 1700000000\n  paths:\n    - src/main.rs\n"
        b"- cmd: echo a\\\\nb\n  when: 1700000005\n"
    )
    import_file(store, "shell", write(tmp_path / "fish_history", data))
    rows = events(store.db_path)
    assert [(r["ts"], r["cmd"]) for r in rows] == [
        (1700000000, "cargo build"),
        (1700000005, "echo a\\nb"),
    ]
    assert json.loads(rows[0]["meta"])["shell"] == "fish"


MALFORMED = {
    "bad zsh header": (
        ".zsh_history",
        b": 1700000000:0;ls\n: 17000x0000:0;rm -rf /tmp/x\n: 1700000002:0;pwd\n",
        2,
        "malformed zsh extended-history header",
    ),
    "bad fish when": (
        "fish_history",
        b"- cmd: ls\n  when: 1700000000\n- cmd: pwd\n  when: yesterday\n- cmd: id\n  when: 1700000009\n",
        4,
        "'when:' must be Unix seconds",
    ),
    "non-UTF-8 bytes": (
        ".bash_history",
        b"#1700000000\nls\n#1700000001\necho caf\xe9\n#1700000002\npwd\n",
        4,
        "not UTF-8 text (byte 0xe9",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_history_names_file_and_line_and_writes_nothing(
    store: StoreContext, tmp_path: Path, case: str
) -> None:
    name, data, line, reason = MALFORMED[case]
    import_file(store, "shell", write(tmp_path / "seed_history", b"#1600000000\nseed\n"))
    before = events(store.db_path)
    path = write(tmp_path / name, data)
    with pytest.raises(ImportFormatError) as info:
        import_file(store, "shell", path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert reason in str(info.value)
    assert events(store.db_path) == before


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_skip_bad_imports_the_other_entries(store: StoreContext, tmp_path: Path, case: str) -> None:
    name, data, line, _ = MALFORMED[case]
    report = import_file(store, "shell", write(tmp_path / name, data), skip_bad=True)
    assert (report.imported, report.skipped) == (2, 1)
    assert [r.line for r in report.skipped_records] == [line]
    assert len(events(store.db_path)) == 2


def test_secrets_in_commands_are_redacted(store: StoreContext, tmp_path: Path) -> None:
    data = (
        b"#1700000000\nmysql -u root -psecret123 shop\n"
        b"#1700000001\ncurl -H 'Authorization: Bearer abc.def.ghi' https://api.example.com\n"
    )
    import_file(store, "shell", write(tmp_path / ".bash_history", data))
    cmds = [r["cmd"] for r in events(store.db_path)]
    assert cmds == [
        "mysql -u root -p[REDACTED] shop",
        "curl -H 'Authorization: Bearer [REDACTED]' https://api.example.com",
    ]


def test_reimport_adds_nothing(store: StoreContext, tmp_path: Path) -> None:
    path = write(tmp_path / ".bash_history", b"ls\npwd\n", mtime=1_700_000_000)
    import_file(store, "shell", path)
    again = import_file(store, "shell", path)
    assert (again.imported, again.duplicates) == (0, 2)
    assert len(events(store.db_path)) == 2


def test_zsh_metafied_bytes_are_decoded(store: StoreContext, tmp_path: Path) -> None:
    # zsh writes bytes >= 0x83 as 0x83 followed by the byte xor 32: "é" is c3 a9 -> c3 83 89.
    data = b": 1700000000:0;echo caf\xc3\x83\x89\n"
    import_file(store, "shell", write(tmp_path / ".zsh_history", data))
    assert [r["cmd"] for r in events(store.db_path)] == ["echo café"]


def test_validation_streams_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    from selflow_qt.collect.import_shell import ShellHistorySource

    path = tmp_path / ".bash_history"
    with path.open("w") as f:
        for i in range(20_000):
            f.write(f"#{1_700_000_000 + i}\necho {'x' * 500} {i}\n")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        n = sum(1 for _ in ShellHistorySource(path).records())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 20_000
    assert peak < 2_000_000, f"validation held {peak} bytes"


def test_an_imported_history_is_not_todays_activity(store: StoreContext, tmp_path: Path) -> None:
    """A history file written today gets times of today, but it is history, not live work."""
    import time

    from selflow_qt.core.event import Event
    from selflow_qt.store.queries.tray import efficiency_today, events_today, workflows_today
    from selflow_qt.store.writer import insert_events

    now = time.time()
    path = write(tmp_path / ".bash_history", b"git status\nmake test\nls\n", mtime=now - 60)
    assert import_file(store, "shell", path).imported == 3
    assert events_today(store.db) == 0
    assert workflows_today(store.db)["analysed"] == 0 and efficiency_today(store.db).analysed == 0
    with store.db.atomic():
        insert_events(store.db, [Event(ts=now - 30, source="shell", action="command", cmd="ls")])
    assert events_today(store.db) == 1
