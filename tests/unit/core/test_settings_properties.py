"""Property tests of settings.json (Hypothesis): any JSON, any bytes, loads with the right types
or the defaults and a warning naming the file; never a traceback; what loads saves and loads
back the same."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st
from properties import PROFILE

from selflow_qt.core.settings import Settings

DEFAULTS = Settings()
FIELDS = [f.name for f in dataclasses.fields(Settings) if f.name != "unknown_keys"]
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
)
VALUE = st.recursive(
    LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
DOC = st.one_of(
    st.dictionaries(st.sampled_from([*FIELDS, "extra", "unknown"]), VALUE, max_size=8),
    VALUE,
)


def _text(doc: object) -> bytes:
    return json.dumps(doc).encode()


@st.composite
def settings_bytes(draw) -> bytes:
    data = draw(DOC.map(_text) | st.binary(max_size=60))
    if data and draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=4)) + data[at:]
    return data


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "settings.json").write_bytes(data)
        s = Settings.load(folder)
        for name in FIELDS:
            value, default = getattr(s, name), getattr(DEFAULTS, name)
            if default is None:  # None: the runner's own number
                assert value is None or type(value) is int, (name, value)
            else:
                assert type(value) is type(default), (name, value)
            if isinstance(value, float):
                assert math.isfinite(value), (name, value)
        assert all(str(folder) in w for w in s.warnings)
        s.save(folder)
        again = Settings.load(folder)
        assert again.warnings == ()
        assert [getattr(again, n) for n in FIELDS] == [getattr(s, n) for n in FIELDS]


@PROFILE
@given(data=settings_bytes())
@example(data=b"[" * 100_000)  # found: RecursionError from json.loads
@example(data=b'{"budget_bytes": 1' + b"0" * 5000 + b"}")  # found: ValueError past 4,300 digits
@example(data=b'{"app_poll_seconds": 1' + b"0" * 400 + b"}")  # found: OverflowError in float()
@example(data=b'{"app_poll_seconds": NaN}')  # found: NaN loaded (time.sleep(NaN) raises later)
def test_any_settings_file_loads_or_falls_back_clearly(data):
    _check(data)
