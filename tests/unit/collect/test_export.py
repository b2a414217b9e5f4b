"""`selflow export jsonl`: the interchange form, streamed; export then import round-trips exactly."""

from __future__ import annotations

import io
import json
import os
import stat
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest

from selflow_qt.cli import main
from selflow_qt.collect.export import export_jsonl, export_to, parse_when
from selflow_qt.collect.importers import import_file
from selflow_qt.core.event import FIELDS, Event
from selflow_qt.store.context import StoreContext
from selflow_qt.store.writer import insert_events


def sample_events() -> list[Event]:
    """A varied day: every source, unicode, nested meta, nulls, identical twins, a gap."""
    base = 1_709_280_000.0
    evs = [
        Event(ts=base + 0.125, tz_offset=60, source="fs", action="create", path="/w/notes/été.md"),
        Event(
            ts=base + 1,
            tz_offset=60,
            source="fs",
            action="move",
            path="/w/dl/a.pdf",
            dest="/w/docs/a.pdf",
        ),
        Event(
            ts=base + 2,
            tz_offset=60,
            source="shell",
            action="command",
            cmd="pytest -q && git commit -m 'fix: ünïcode'",
            cwd="/w/proj",
            duration=3.25,
            meta={"shell": "zsh", "nested": {"list": [1, 2.5, None, "x"]}},
        ),
        Event(
            ts=base + 3,
            tz_offset=60,
            source="app",
            action="focus",
            app="code",
            duration=61.0,
            meta={"title": "main.py — proj"},
        ),
        Event(ts=base + 3, tz_offset=60, source="app", action="focus", app="code", duration=61.0),
        Event(ts=base + 3, tz_offset=60, source="app", action="focus", app="code", duration=61.0),
        Event(ts=base + 4, tz_offset=-300, source="aw", action="afk", duration=300.0),
        Event(ts=base + 5, tz_offset=0, source="system", action="gap", meta={"count": 12}),
        Event(
            ts=base + 6,
            tz_offset=60,
            source="shell",
            action="command",
            cmd="export API_TOKEN=[REDACTED]",
        ),
    ]
    return evs


@pytest.fixture
def filled(store: StoreContext) -> StoreContext:
    with store.db.atomic():
        insert_events(store.db, sample_events())
    return store


def test_lines_have_exactly_the_event_keys_in_time_order(filled: StoreContext) -> None:
    buf = io.StringIO()
    assert export_jsonl(filled.db, buf) == 9
    records = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert all(tuple(r) == FIELDS for r in records)
    assert [r["ts"] for r in records] == sorted(r["ts"] for r in records)
    assert records[0]["path"] == "/w/notes/été.md"
    assert records[2]["meta"]["nested"] == {"list": [1, 2.5, None, "x"]}
    assert records[6]["tz_offset"] == -300


def test_export_then_import_round_trips_identically(
    filled: StoreContext, tmp_path: Path, monkeypatch
) -> None:
    first = tmp_path / "first.jsonl"
    export_to(filled.db, first)
    fresh_dir = tmp_path / "fresh"
    monkeypatch.setenv("SELFLOW_DATA_DIR", str(fresh_dir))
    fresh = StoreContext.open(fresh_dir)
    try:
        report = import_file(fresh, "jsonl", first)
        assert (report.imported, report.filtered, report.duplicates) == (9, 0, 0)
        second = tmp_path / "second.jsonl"
        export_to(fresh.db, second)
    finally:
        fresh.close()
    assert second.read_bytes() == first.read_bytes()
    cols = "ts, tz_offset, source, action, path, dest, app, cmd, cwd, duration, meta, size"
    a = filled.db.execute_sql(f"SELECT {cols} FROM events ORDER BY id").fetchall()
    fresh = StoreContext.open(fresh_dir)
    try:
        b = fresh.db.execute_sql(f"SELECT {cols} FROM events ORDER BY id").fetchall()
    finally:
        fresh.close()
    assert a == b


def test_since_and_until_select_a_window(filled: StoreContext) -> None:
    base = 1_709_280_000.0
    buf = io.StringIO()
    assert export_jsonl(filled.db, buf, since=base + 1, until=base + 4) == 5
    assert {json.loads(x)["ts"] for x in buf.getvalue().splitlines()} == {
        base + t for t in (1, 2, 3)
    }


def test_parse_when_reads_seconds_dates_and_iso() -> None:
    assert parse_when("1709280000") == 1709280000.0
    assert parse_when("2024-03-01T08:00:00Z") == 1709280000.0
    assert parse_when("2024-03-01T09:00:00+01:00") == 1709280000.0
    assert parse_when("2024-03-01") == datetime(2024, 3, 1).timestamp()  # local midnight
    with pytest.raises(ValueError, match="not a time"):
        parse_when("last tuesday")


def test_cli_writes_stdout_by_default(filled: StoreContext, capsys) -> None:
    filled.close()
    assert main(["export", "jsonl", "--since", "1709280003"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    assert main(["export", "jsonl", "--output", "-", "--until", "1709280001"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_cli_writes_a_private_file(filled: StoreContext, tmp_path: Path, capsys) -> None:
    filled.close()
    out = tmp_path / "all.jsonl"
    assert main(["export", "jsonl", "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 9
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "exported 9 events" in capsys.readouterr().err


def test_cli_unwritable_output_is_an_error(filled: StoreContext, tmp_path: Path, capsys) -> None:
    filled.close()
    rc = main(["export", "jsonl", "-o", str(tmp_path / "no" / "such" / "dir.jsonl")])
    assert rc == 2
    assert "selflow: cannot write" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["selflow-data"]


def test_cli_bad_time_is_an_error(data_dir: Path, capsys) -> None:
    assert main(["export", "jsonl", "--since", "someday"]) == 2
    assert "not a time" in capsys.readouterr().err


class _CountingSink(io.TextIOBase):
    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)


def test_export_streams_in_bounded_memory(store: StoreContext) -> None:
    evs = [
        Event(ts=1.7e9 + i, source="shell", action="command", cmd="echo " + "x" * 600)
        for i in range(20_000)
    ]
    with store.db.atomic():
        insert_events(store.db, evs)
    del evs
    sink = _CountingSink()
    tracemalloc.start()
    try:
        n = export_jsonl(store.db, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 20_000
    assert sink.chars > 10_000_000
    assert peak < min(4_000_000, sink.chars // 4), f"export held {peak} bytes"


def _cycle(db, completed_at: float, labels: dict[int, int], names: dict[int, str]) -> int:
    """A completed analysis run: each event id's consensus label and each label's pattern."""
    from selflow_qt.store.models import AnalysisRun, ClusterAssignment, Pattern

    run = AnalysisRun.create(status="completed", completed_at=completed_at)
    for eid, lab in labels.items():
        ClusterAssignment.create(run=run.id, event_id=eid, consensus=lab)
    for lab, name in names.items():
        Pattern.create(
            name=name,
            pattern_type="workflow",
            metadata={"last_run_id": run.id, "cluster_label": lab},
        )
    return run.id


def test_after_an_analysis_each_event_carries_its_pattern_of_the_latest_cycle(
    filled: StoreContext, capsys
) -> None:
    ids = [r[0] for r in filled.db.execute_sql("SELECT id FROM events ORDER BY ts, id")]
    _cycle(filled.db, 100.0, dict.fromkeys(ids, 0), {0: "Old pattern"})
    # the latest cycle: the first three events in cluster 0, the next in 1, one in noise
    _cycle(
        filled.db,
        200.0,
        {ids[0]: 0, ids[1]: 0, ids[2]: 0, ids[3]: 1, ids[4]: -1},
        {0: "Python coding in ~/proj", 1: "Writing notes"},
    )
    filled.close()
    assert main(["export", "jsonl"]) == 0  # no flag needed
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # every event has the key: its pattern, or null where it has none
    assert all("pattern" in r["meta"] for r in records)
    got = [(r["meta"]["pattern"] or {}).get("name") for r in records]
    assert got[:5] == ["Python coding in ~/proj"] * 3 + ["Writing notes", None]
    assert all(g is None for g in got[5:])
    first = records[0]["meta"]["pattern"]
    assert set(first) == {"id", "name"} and isinstance(first["id"], int)
    assert records[4]["meta"]["pattern"] is None
    # other meta survives next to the pattern
    shell = next(r for r in records if (r.get("cmd") or "").startswith("pytest"))
    assert shell["meta"]["shell"] == "zsh" and "pattern" in shell["meta"]


def test_the_old_flag_still_works(filled: StoreContext, capsys) -> None:
    ids = [r[0] for r in filled.db.execute_sql("SELECT id FROM events")]
    _cycle(filled.db, 100.0, dict.fromkeys(ids, 0), {0: "Coding"})
    filled.close()
    assert main(["export", "jsonl", "--with-patterns"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["meta"]["pattern"]["name"] for r in records} == {"Coding"}


def test_no_patterns_leaves_them_out(filled: StoreContext, capsys) -> None:
    ids = [r[0] for r in filled.db.execute_sql("SELECT id FROM events")]
    _cycle(filled.db, 100.0, dict.fromkeys(ids, 0), {0: "Coding"})
    filled.close()
    assert main(["export", "jsonl", "--no-patterns"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all("pattern" not in r.get("meta", {}) for r in records)


def test_before_any_analysis_no_pattern_is_written(filled: StoreContext, capsys) -> None:
    filled.close()
    assert main(["export", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records and all("pattern" not in r.get("meta", {}) for r in records)
