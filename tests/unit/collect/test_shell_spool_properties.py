"""Property tests of the shell hooks' spool reader (Hypothesis): garbage, torn and mutated
records, and a damaged offsets file, never raise; good records around damage are still read."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st
from properties import PROFILE

from selflow_qt.collect.shell_spool import OFFSETS_FILE, SpoolReader, parse_records

NUMBER = st.one_of(
    st.sampled_from([b"-", b"1700000000.5", b"1700000000,25", b"", b"1" + b"0" * 400, b"-3"]),
    st.binary(max_size=6),
)
TEXT = st.binary(max_size=30).filter(lambda b: b"\0" not in b)


@st.composite
def record(draw) -> bytes:
    shell = draw(st.sampled_from([b"bash", b"zsh", b"fish", b"sh"]))
    head = b" ".join(
        [b"v1", shell, draw(st.sampled_from([b"s1", b"42.1700000000", b""]))]
        + [draw(NUMBER), draw(NUMBER), draw(st.sampled_from([b"0", b"127", b"x"])), draw(NUMBER)]
    )
    enc = draw(st.sampled_from([b"raw", b"hist", b"url", b"zip"]))
    if enc == b"url":
        return b"\x1e" + head + b" url " + draw(TEXT).hex().encode() + b" %41%ff%0\n"
    line = b"   12  " + draw(TEXT) + b"\n" if enc == b"hist" else draw(TEXT)
    return b"\x1e" + head + b" " + enc + b"\0" + draw(TEXT) + b"\0" + line + b"\0\n"


@st.composite
def spool(draw) -> bytes:
    parts = draw(st.lists(record() | st.binary(max_size=20), max_size=6))
    data = b"".join(parts)
    if data and draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=3)) + data[at + draw(st.integers(0, 3)) :]
    return data


GOOD = b"\x1ev1 zsh s1 1700000000.5 1700000001 0 - raw\0/tmp\0make\0\n"


@PROFILE
@given(data=spool())
def test_parse_records_survives_garbage(data):
    records, used, skipped = parse_records(data)
    assert 0 <= used <= len(data) and skipped >= 0
    assert all(r.cmd.strip() for r in records)
    again, used2, _ = parse_records(data + GOOD)  # a good record after damage is still read
    assert any(r.cmd == "make" for r in again) or used2 < len(data)


OFFSETS = st.one_of(
    st.dictionaries(
        st.text(max_size=12),
        st.none() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=4),
        max_size=3,
    ).map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=30),
    st.sampled_from([b"[" * 100_000, b'{"zsh.1.s1.spool": 1' + b"0" * 5000 + b"}"]),
)


@PROFILE
@given(data=spool(), offsets=OFFSETS)
@example(data=GOOD, offsets=b'{"zsh.1.s1.spool": null}')  # found: TypeError, the hook died
@example(data=GOOD, offsets=b'{"zsh.1.s1.spool": Infinity}')  # found: OverflowError
@example(data=GOOD, offsets=b"[" * 100_000)  # found: RecursionError
@example(data=GOOD, offsets=b'{"zsh.1.s1.spool": -5}')  # found: that file was never read again
def test_the_reader_survives_a_damaged_offsets_file(data, offsets):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "zsh.1.s1.spool").write_bytes(data + GOOD)
        (folder / OFFSETS_FILE).write_bytes(offsets)
        reader = SpoolReader(folder)
        start = reader.offsets.get("zsh.1.s1.spool")
        got = reader.read_new()
        reader.already_read()
        assert all(r.cmd.strip() for r in got)
        assert 0 <= reader.offsets.get("zsh.1.s1.spool", 0) <= len(data + GOOD)
        if start is None or start > len(data + GOOD):  # read from the start: the last is there
            assert any(r.cmd == "make" for r in got)
