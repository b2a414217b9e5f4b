"""Property tests of the importers (Hypothesis): any file, generated or mutated, either imports
or stops with ImportFormatError naming the file and line; never a traceback, never a partial
write. With ``skip_bad`` every file imports what is good (see tests/support/properties.py for
the example counts)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from properties import PROFILE

from selflow_qt.collect.import_source import open_source
from selflow_qt.collect.importers import ImportFormatError, import_source
from selflow_qt.core.event import SOURCES
from selflow_qt.core.privacy import PrivacyFilter
from selflow_qt.store.context import StoreContext

# -- generated values ------------------------------------------------------------------------
HUGE = st.sampled_from(["x" * 70_000, "9" * 5_000, "[" * 3_000, "{" * 50 + "}" * 50, "é" * 40_000])
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
VALUE = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def deep(depth: int) -> object:
    value: object = "bottom"
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


DEEP = st.integers(min_value=14, max_value=40).map(deep)
ANY = st.one_of(VALUE, HUGE, DEEP)
TS = st.one_of(
    st.floats(min_value=0, max_value=4e9),
    st.sampled_from(["2026-03-10T12:00:00Z", "2026-03-10T12:00:00.123456789+02:00", "yesterday"]),
    ANY,
)
EVENT = st.fixed_dictionaries(
    {
        "ts": TS,
        "source": st.sampled_from(SOURCES) | ANY,
        "action": st.sampled_from(["create", "command"]) | ANY,
    },
    optional={
        "path": st.text(max_size=30) | ANY,
        "cmd": st.text(max_size=30) | ANY,
        "duration": st.floats(min_value=0, max_value=1e6) | ANY,
        "tz_offset": st.integers(-1500, 1500) | ANY,
        "meta": st.dictionaries(st.text(max_size=6), ANY, max_size=3) | ANY,
        "extra_key": ANY,
    },
)


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` with a few byte-level mutations: truncated, bytes inserted, replaced, repeated."""
    for _ in range(draw(st.integers(0, 3))):
        if not data:
            break
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["truncate", "insert", "replace", "repeat"]))
        if op == "truncate":
            data = data[:at]
        elif op == "insert":
            junk = draw(
                st.sampled_from(
                    [b"\xff", b"\xc3", b"\x00", b"\n", b"\r\n", b'"', b"{", b"]", b"\x83"]
                )
                | st.binary(max_size=8)
            )
            data = data[:at] + junk + data[at:]
        elif op == "replace" and at < len(data):
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        else:
            data = data[:at] + data[max(0, at - 20) : at] + data[at:]
    return data


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=draw_ascii(value)).encode("utf-8", "surrogatepass")


def draw_ascii(value: object) -> bool:
    return len(str(value)) % 2 == 0  # both escaped and raw non-ASCII text, deterministically


JSONL_LINE = st.one_of(
    EVENT.map(_json_bytes),
    ANY.map(_json_bytes),
    st.sampled_from(
        [b"", b"   ", b": 1700000000:0;ls", b"- cmd: ls", b"#1700000000", b"\xef\xbb\xbf{}"]
    ),
    st.binary(max_size=40),
)
JSONL_FILE = st.lists(JSONL_LINE, max_size=6).map(lambda ls: b"\n".join(ls)).flatmap(mutated)

SHELL_LINE = st.one_of(
    st.builds(lambda t, c: f"#{t}\n{c}", st.integers(0, 10**12), st.text(max_size=20)),
    st.builds(
        lambda t, d, c: f": {t}:{d};{c}",
        st.integers(0, 10**13) | st.text(max_size=4),
        st.integers(0, 99) | st.text(max_size=3),
        st.text(max_size=20),
    ),
    st.builds(
        lambda c, w: f"- cmd: {c}\n  when: {w}",
        st.text(max_size=20),
        st.integers(0, 10**12) | st.text(max_size=6),
    ),
    st.sampled_from(["  paths:", "    - /tmp", "ls \\", "  when: 5", "\\", ": x:y;z"]),
    st.text(max_size=30),
)
SHELL_FILE = (
    st.lists(SHELL_LINE, max_size=8)
    .map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass"))
    .flatmap(mutated)
)
SHELL_NAME = st.sampled_from(["history", ".bash_history", ".zsh_history", "fish_history"])

AW_EVENT = st.fixed_dictionaries(
    {"timestamp": TS},
    optional={
        "duration": st.floats(min_value=0, max_value=1e5) | ANY,
        "data": st.fixed_dictionaries(
            {},
            optional={
                "app": st.text(max_size=8) | ANY,
                "title": ANY,
                "status": st.sampled_from(["afk", "not-afk"]) | ANY,
                "url": ANY,
                "file": ANY,
            },
        )
        | ANY,
    },
)
AW_BUCKET = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["currentwindow", "afkstatus", "web.tab.current", "app.editor.activity", "x"]
        )
        | ANY
    },
    optional={"events": st.lists(AW_EVENT | ANY, max_size=3) | ANY, "id": ANY},
)
AW_DOC = st.one_of(
    st.dictionaries(st.text(max_size=6), AW_BUCKET, max_size=3).map(lambda b: {"buckets": b}),
    st.dictionaries(st.text(max_size=6), AW_BUCKET, max_size=3),
    ANY,
)
AW_FILE = AW_DOC.map(_json_bytes).flatmap(mutated)


# -- the property ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ctx():
    with tempfile.TemporaryDirectory(prefix="selflow-props-") as tmp:
        c = StoreContext.open(Path(tmp) / "data")
        c.files = Path(tmp)  # where the generated inputs go
        yield c
        c.close()


def _count(ctx) -> int:
    return ctx.db.execute_sql("SELECT count(*) FROM events").fetchone()[0]


def check_import(ctx, kind: str, name: str, data: bytes) -> None:
    path = ctx.files / name
    path.write_bytes(data)
    for skip_bad in (False, True):
        before = _count(ctx)
        try:
            source = open_source(kind, path)
            report = import_source(ctx.db, source, kind, PrivacyFilter(), skip_bad=skip_bad)
        except ImportFormatError as exc:
            assert str(exc).startswith(str(path)), exc  # names the file ...
            if kind != "activitywatch" or "nested" not in exc.message:
                assert exc.line is not None and exc.line >= 1, exc  # ... and the line
            assert _count(ctx) == before, "an import that stopped wrote something"
            assert not skip_bad or kind == "activitywatch", f"--skip-bad stopped: {exc}"
            continue
        assert _count(ctx) == before + report.imported


@PROFILE
@given(data=JSONL_FILE)
def test_jsonl_imports_or_names_the_line(ctx, data):
    check_import(ctx, "jsonl", "events.jsonl", data)


@PROFILE
@given(data=SHELL_FILE, name=SHELL_NAME)
@example(data=b"- cmd:\n  when:\xc2\xb2", name="history")  # found: "²".isdigit(); float() refused
def test_shell_history_imports_or_names_the_line(ctx, data, name):
    check_import(ctx, "shell", name, data)


BIG_DURATION = b'{"buckets":{"b":{"type":"x","events":[{"timestamp":1,"duration":1' + b"0" * 400
LONG_NUMBER = b'{"buckets":{"b":{"type":"x","events":[{"timestamp":1' + b"0" * 5000


@PROFILE
@given(data=AW_FILE)
@example(data=BIG_DURATION + b"}]}}}")  # found: float(10**400) raised OverflowError
@example(data=LONG_NUMBER + b"}]}}}")  # found: json.loads' ValueError past 4,300 digits
def test_activitywatch_export_imports_or_names_the_line(ctx, data):
    check_import(ctx, "activitywatch", "aw-export.json", data)
