"""`selflow import activitywatch`: aw-server exports (files or a local server) become aw events."""

from __future__ import annotations

import copy
import http.server
import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from selflow_qt.collect.importers import ImportFormatError, import_file
from selflow_qt.store.context import StoreContext

HOST = "testhost"


def bucket(bid: str, btype: str, events: list[dict]) -> dict:
    return {
        "id": bid,
        "type": btype,
        "client": bid.rsplit("_", 1)[0],
        "hostname": HOST,
        "created": "2024-03-01T08:00:00.000000+00:00",
        "events": events,
    }


def ev(ts: str, duration: float, data: dict) -> dict:
    return {"timestamp": ts, "duration": duration, "data": data}


def export() -> dict:
    return {
        "buckets": {
            f"aw-watcher-window_{HOST}": bucket(
                f"aw-watcher-window_{HOST}",
                "currentwindow",
                [
                    ev("2024-03-01T09:00:00+00:00", 30.5, {"app": "code", "title": "main.py"}),
                    ev(
                        "2024-03-01T09:01:00+00:00",
                        5.0,
                        {"app": "firefox", "title": "token=abc --password=hunter2"},
                    ),
                ],
            ),
            f"aw-watcher-afk_{HOST}": bucket(
                f"aw-watcher-afk_{HOST}",
                "afkstatus",
                [
                    ev("2024-03-01T09:00:00Z", 600.0, {"status": "not-afk"}),
                    ev("2024-03-01T09:10:00Z", 300.0, {"status": "afk"}),
                ],
            ),
            "aw-watcher-web-firefox": bucket(
                "aw-watcher-web-firefox",
                "web.tab.current",
                [
                    ev(
                        "2024-03-01T09:02:00Z",
                        12.0,
                        {"url": "https://bob:s3cret@intranet.example/x", "title": "Wiki"},
                    ),
                    ev(
                        "2024-03-01T09:03:00Z",
                        8.0,
                        {"url": "https://private.example/", "title": "P", "incognito": True},
                    ),
                ],
            ),
            "aw-watcher-vscode_testhost": bucket(
                "aw-watcher-vscode_testhost",
                "app.editor.activity",
                [
                    ev(
                        "2024-03-01T09:04:00Z",
                        60.0,
                        {"file": "/w/proj/app.py", "project": "/w/proj", "language": "python"},
                    )
                ],
            ),
            "aw-stopwatch": bucket(
                "aw-stopwatch",
                "general.stopwatch",
                [ev("2024-03-01T09:05:00Z", 0, {"label": "focus block", "running": False})],
            ),
        }
    }


def rows(db_path: Path) -> list[dict]:
    con = sqlite3.connect(db_path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM events ORDER BY id")]
    finally:
        con.close()


def dump(path: Path, doc: object, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(doc, indent=indent), encoding="utf-8")
    return path


def test_bucket_types_map_to_actions(store: StoreContext, tmp_path: Path) -> None:
    report = import_file(store, "activitywatch", dump(tmp_path / "aw.json", export()))
    assert (report.imported, report.filtered) == (7, 1)  # the incognito tab is never stored
    got = {(r["action"], r["app"], r["path"]): r for r in rows(store.db_path)}
    focus = got[("focus", "code", None)]
    assert focus["source"] == "aw"
    assert focus["ts"] == 1709283600.0
    assert focus["duration"] == 30.5
    assert json.loads(focus["meta"]) == {"title": "main.py", "bucket": f"aw-watcher-window_{HOST}"}
    title = json.loads(got[("focus", "firefox", None)]["meta"])["title"]
    assert "hunter2" not in title and "abc" not in title
    assert ("not-afk", None, None) in got and ("afk", None, None) in got
    browse = json.loads(got[("browse", None, None)]["meta"])
    assert browse["url"] == "https://[REDACTED]@intranet.example/x"
    edit = got[("edit", None, "/w/proj/app.py")]
    assert json.loads(edit["meta"])["language"] == "python"
    other = json.loads(got[("general.stopwatch", None, None)]["meta"])
    assert other == {"label": "focus block", "running": False, "bucket": "aw-stopwatch"}


def test_bare_bucket_map_is_accepted(store: StoreContext, tmp_path: Path) -> None:
    doc = export()["buckets"]
    report = import_file(store, "activitywatch", dump(tmp_path / "old.json", doc))
    assert report.imported == 7


MALFORMED = {
    "event without timestamp": (lambda e: e.pop("timestamp"), "event has no timestamp"),
    "bad duration": (lambda e: e.update(duration="long"), "duration must be"),
    "negative duration": (lambda e: e.update(duration=-3), "duration must be"),
    "bad timestamp": (lambda e: e.update(timestamp="soon"), "timestamp: ts is not ISO 8601"),
    "bad afk status": (lambda e: e["data"].update(status="away"), "data.status"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_event_names_line_and_json_path(
    store: StoreContext, tmp_path: Path, case: str
) -> None:
    mutate, reason = MALFORMED[case]
    import_file(store, "activitywatch", dump(tmp_path / "seed.json", export()))
    before = rows(store.db_path)
    doc = export()
    bad = doc["buckets"][f"aw-watcher-afk_{HOST}"]["events"][1]
    bad["data"]["marker"] = "HERE"
    mutate(bad)
    path = dump(tmp_path / "bad.json", doc)
    with pytest.raises(ImportFormatError) as info:
        import_file(store, "activitywatch", path)
    err = info.value
    # The event's opening brace sits alone on the nearest line above its marker.
    lines = path.read_text().splitlines()
    marker = next(i for i, ln in enumerate(lines) if '"HERE"' in ln)
    brace = max(i for i in range(marker) if lines[i].strip() == "{")
    assert err.line == brace + 1
    assert err.where == f"buckets.aw-watcher-afk_{HOST}.events[1]"
    assert str(err).startswith(f"{path}:{err.line}: buckets.aw-watcher-afk_{HOST}.events[1]: ")
    assert reason in str(err)
    assert rows(store.db_path) == before


def test_line_number_is_exact_in_a_pretty_printed_export(
    store: StoreContext, tmp_path: Path
) -> None:
    doc = export()
    events = doc["buckets"]["aw-watcher-vscode_testhost"]["events"]
    events.append({"duration": 1.0, "data": {"file": "/w/b.py"}})
    text = json.dumps(doc, indent=1)
    path = tmp_path / "aw.json"
    path.write_text(text)
    with pytest.raises(ImportFormatError) as info:
        import_file(store, "activitywatch", path)
    marker = text.index('"file": "/w/b.py"')
    brace = text.rindex("{", 0, text.rindex('"duration": 1.0', 0, marker))
    assert info.value.line == text.count("\n", 0, brace) + 1
    assert info.value.where == "buckets.aw-watcher-vscode_testhost.events[1]"


def test_missing_buckets_is_an_error(store: StoreContext, tmp_path: Path) -> None:
    path = dump(tmp_path / "x.json", {"hello": "world"})
    with pytest.raises(ImportFormatError, match=r"x\.json:1: no 'buckets' object"):
        import_file(store, "activitywatch", path)
    assert rows(store.db_path) == []


def test_invalid_json_names_line(store: StoreContext, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "buckets": {\n    "a": [1, 2,,]\n  }\n}\n')
    with pytest.raises(ImportFormatError, match=r"broken\.json:3: invalid JSON"):
        import_file(store, "activitywatch", path)


def test_skip_bad_imports_the_rest(store: StoreContext, tmp_path: Path) -> None:
    doc = export()
    afk = doc["buckets"][f"aw-watcher-afk_{HOST}"]["events"]
    afk[0].pop("timestamp")
    afk[1]["duration"] = "x"
    doc["buckets"]["broken"] = {"id": "broken", "type": "currentwindow", "events": "nope"}
    report = import_file(store, "activitywatch", dump(tmp_path / "aw.json", doc), skip_bad=True)
    assert (report.imported, report.skipped) == (5, 3)
    wheres = sorted(r.where for r in report.skipped_records)
    assert wheres == [
        "buckets.aw-watcher-afk_testhost.events[0]",
        "buckets.aw-watcher-afk_testhost.events[1]",
        "buckets.broken",
    ]


def test_reimport_adds_nothing(store: StoreContext, tmp_path: Path) -> None:
    path = dump(tmp_path / "aw.json", export())
    import_file(store, "activitywatch", path)
    again = import_file(store, "activitywatch", path)
    assert (again.imported, again.duplicates) == (0, 7)


@pytest.fixture
def aw_server() -> Iterator[tuple[str, list[str]]]:
    """A tiny aw-server stand-in on 127.0.0.1 that serves one export."""
    body = json.dumps(export()).encode()
    requested: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            requested.append(self.path)
            if self.path != "/api/0/export":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()


def test_import_from_a_running_server(store: StoreContext, aw_server, monkeypatch) -> None:
    url, requested = aw_server
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # must be ignored
    report = import_file(store, "activitywatch", url)
    assert report.imported == 7
    assert requested == ["/api/0/export"]
    assert report.source == url + "/api/0/export"


def test_server_error_is_reported(store: StoreContext, aw_server) -> None:
    url, _ = aw_server
    with pytest.raises(ImportFormatError, match="HTTP 404"):
        import_file(store, "activitywatch", url + "/api/0/nothing")


def test_unreachable_server_is_a_clear_error(store: StoreContext) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ImportFormatError, match="cannot reach ActivityWatch"):
        import_file(store, "activitywatch", f"http://127.0.0.1:{port}")
    assert rows(store.db_path) == []


def test_export_is_not_mutated_between_passes(store: StoreContext, tmp_path: Path) -> None:
    doc = export()
    path = dump(tmp_path / "aw.json", doc)
    import_file(store, "activitywatch", path)
    assert json.loads(path.read_text()) == copy.deepcopy(doc)
