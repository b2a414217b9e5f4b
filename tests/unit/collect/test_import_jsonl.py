"""`selflow import jsonl`: valid files import, malformed ones name file and line and write nothing."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from selflow_qt.collect.import_jsonl import JsonlSource
from selflow_qt.collect.importers import ImportFormatError, import_file
from selflow_qt.core.settings import Settings
from selflow_qt.store.context import StoreContext


def db_snapshot(db_path: Path) -> tuple[int, list[tuple], object]:
    """Rows of the events table and the buffer fill, read through a separate connection."""
    con = sqlite3.connect(db_path)
    try:
        rows = con.execute("SELECT * FROM events ORDER BY id").fetchall()
        buf = con.execute("SELECT value FROM kv_state WHERE key = 'buffer'").fetchone()
        return len(rows), rows, buf
    finally:
        con.close()


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    data = b"".join((ln if isinstance(ln, bytes) else ln.encode("utf-8")) + b"\n" for ln in lines)
    path.write_bytes(data)
    return path


GOOD = [
    json.dumps({"ts": 1_700_000_000.25, "source": "fs", "action": "create", "path": "/w/a.txt"}),
    json.dumps(
        {"ts": "2024-03-01T09:30:00Z", "source": "shell", "action": "command", "cmd": "make"}
    ),
    "",
    json.dumps(
        {
            "ts": "2024-03-01T10:30:00+02:00",
            "source": "app",
            "action": "focus",
            "app": "firefox",
            "duration": 12.5,
            "meta": {"title": "Docs"},
        }
    ),
]


@pytest.fixture
def seeded(store: StoreContext, tmp_path: Path) -> StoreContext:
    """A store that already holds three events, so 'untouched' means something."""
    seed = write_lines(tmp_path / "seed.jsonl", GOOD)
    import_file(store, "jsonl", seed)
    return store


def test_valid_file_imports_every_event(store: StoreContext, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ok.jsonl", GOOD)
    report = import_file(store, "jsonl", path)
    assert (report.imported, report.skipped, report.filtered) == (3, 0, 0)
    n, rows, buf = db_snapshot(store.db_path)
    assert n == 3
    by_source = {r[3]: r for r in rows}
    assert by_source["shell"][1] == 1709285400.0  # the ISO time, in Unix seconds
    assert by_source["app"][1] == 1709281800.0  # +02:00 respected
    assert by_source["app"][10] == 12.5
    assert json.loads(buf[0])["events"] == 3


MALFORMED = {
    "bad JSON": ('{"ts": 1700000000, "source": "fs",', "invalid JSON"),
    "missing ts": (
        '{"source": "fs", "action": "create", "path": "/w/x"}',
        "missing required key 'ts'",
    ),
    "wrong type": (
        '{"ts": 1700000000, "source": "fs", "action": "create", "path": 42}',
        "path must",
    ),
    "unknown source": ('{"ts": 1700000000, "source": "mail", "action": "send"}', "source must"),
    "bad ISO ts": ('{"ts": "yesterday", "source": "fs", "action": "create"}', "ISO 8601"),
    "negative duration": (
        '{"ts": 1700000000, "source": "app", "action": "focus", "duration": -1}',
        "duration",
    ),
    "not an object": ("[1, 2, 3]", "expected a JSON object"),
    "huge ts": ('{"ts": 1e300, "source": "fs", "action": "create"}', "out of range"),
    "unknown key": ('{"ts": 1700000000, "source": "fs", "action": "create", "x": 1}', "unknown"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_record_names_file_and_line_and_writes_nothing(
    seeded: StoreContext, tmp_path: Path, case: str
) -> None:
    bad, reason = MALFORMED[case]
    path = write_lines(tmp_path / "in.jsonl", [GOOD[0], GOOD[1], "", bad, GOOD[3]])
    before = db_snapshot(seeded.db_path)
    with pytest.raises(ImportFormatError) as info:
        import_file(seeded, "jsonl", path)
    err = info.value
    assert (err.source, err.line) == (str(path), 4)
    assert str(err).startswith(f"{path}:4: ")
    assert reason in str(err)
    assert db_snapshot(seeded.db_path) == before


def test_non_utf8_line_is_an_error_naming_the_line(seeded: StoreContext, tmp_path: Path) -> None:
    bad = b'{"ts": 1700000000, "source": "fs", "action": "create", "path": "/w/caf\xe9"}'
    path = write_lines(tmp_path / "latin1.jsonl", [GOOD[0], bad])
    before = db_snapshot(seeded.db_path)
    with pytest.raises(ImportFormatError, match=r"latin1\.jsonl:2: not UTF-8 text \(byte 0xe9"):
        import_file(seeded, "jsonl", path)
    assert db_snapshot(seeded.db_path) == before


def test_skip_bad_imports_the_rest_and_reports_each_skip(
    store: StoreContext, tmp_path: Path
) -> None:
    lines = [GOOD[0], MALFORMED["missing ts"][0], GOOD[1], b"\xff\xfe", GOOD[3]]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    report = import_file(store, "jsonl", path, skip_bad=True)
    assert (report.imported, report.skipped) == (3, 2)
    assert [r.line for r in report.skipped_records] == [2, 4]
    assert all(str(r).startswith(f"{path}:") for r in report.skipped_records)
    assert db_snapshot(store.db_path)[0] == 3


def test_reimporting_the_same_file_adds_nothing(store: StoreContext, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ok.jsonl", GOOD)
    import_file(store, "jsonl", path)
    before = db_snapshot(store.db_path)
    again = import_file(store, "jsonl", path)
    assert (again.imported, again.duplicates) == (0, 3)
    assert db_snapshot(store.db_path) == before


def test_identical_events_inside_one_file_are_all_kept(store: StoreContext, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "twice.jsonl", [GOOD[0], GOOD[0]])
    assert import_file(store, "jsonl", path).imported == 2
    assert import_file(store, "jsonl", path).duplicates == 2


def test_privacy_rules_apply_and_are_counted(data_dir: Path, tmp_path: Path) -> None:
    Settings(exclude_globs=["**/private/**"], redact_patterns=[r"hunter\d"]).save(data_dir)
    ctx = StoreContext.open(data_dir)
    try:
        lines = [
            json.dumps({"ts": 1.7e9, "source": "fs", "action": "create", "path": "/w/.env"}),
            json.dumps({"ts": 1.7e9, "source": "fs", "action": "create", "path": "/w/private/p"}),
            json.dumps(
                {"ts": 1.7e9, "source": "shell", "action": "command", "cmd": "echo hunter2"}
            ),
            GOOD[0],
        ]
        report = import_file(ctx, "jsonl", write_lines(tmp_path / "p.jsonl", lines))
        assert (report.imported, report.filtered) == (2, 2)
        cmds = [r[8] for r in db_snapshot(ctx.db_path)[1] if r[8]]
        assert cmds == ["echo [REDACTED]"]
    finally:
        ctx.close()


def test_progress_reports_reach_the_total(store: StoreContext, tmp_path: Path) -> None:
    lines = [
        json.dumps({"ts": 1.7e9 + i, "source": "fs", "action": "modify", "path": f"/w/{i}"})
        for i in range(12_000)
    ]
    calls: list[tuple[int, int]] = []
    import_file(
        store,
        "jsonl",
        write_lines(tmp_path / "p.jsonl", lines),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (12_000, 12_000)
    assert any(t == 0 for _, t in calls)  # validating
    assert [d for d, t in calls if t] == sorted(d for d, t in calls if t)


def test_missing_file_is_a_clear_error(store: StoreContext, tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no such file"):
        import_file(store, "jsonl", tmp_path / "nope.jsonl")


def test_validation_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = json.dumps(
        {"ts": 1.7e9, "source": "shell", "action": "command", "cmd": "x" * 400, "meta": {"k": 1}}
    )
    with path.open("w") as f:
        for _ in range(25_000):
            f.write(line + "\n")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        n = sum(1 for _ in JsonlSource(path).records())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 25_000
    assert peak < 2_000_000, f"validation held {peak} bytes"


class _ChangesUnderfoot:
    """A source that is valid when checked but turns bad late in the write (a file edited
    between the two reads): everything written before the bad record must be rolled back."""

    name = "flaky.jsonl"

    def __init__(self) -> None:
        self.reads = 0

    def records(self):
        from selflow_qt.core.event import Event

        self.reads += 1
        for i in range(12_000):
            if self.reads == 2 and i == 11_000:
                yield ImportFormatError(self.name, i + 1, "changed since it was checked")
            yield Event(ts=1.7e9 + i, source="fs", action="modify", path=f"/w/{i}")


def test_a_failure_during_the_write_rolls_everything_back(seeded: StoreContext) -> None:
    from selflow_qt.collect.importers import import_source
    from selflow_qt.core.privacy import PrivacyFilter

    before = db_snapshot(seeded.db_path)
    source = _ChangesUnderfoot()
    with pytest.raises(ImportFormatError, match="flaky.jsonl:11001: changed"):
        import_source(seeded.db, source, "jsonl", PrivacyFilter())
    assert source.reads == 2  # the first 10,000 were already inserted when it failed
    assert db_snapshot(seeded.db_path) == before
