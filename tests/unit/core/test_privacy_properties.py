"""Property tests of the privacy filter (Hypothesis): it never raises, on any event, text or
path, with any user rules; and a generated secret of a known class never survives it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from properties import PROFILE

from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter

DEFAULT = PrivacyFilter()
USER = PrivacyFilter(["*.secret", "/tmp/private/", "**/node_modules/**"], [r"\bcode-\d+", "tok"])
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=20),
    st.sampled_from(["", "\x00", "\ud800", "/", "//", "~", "\\", "'\"", "a" * 5000, "=" * 300]),
    st.builds(lambda a, b: a + "password=" + b, st.text(max_size=10), st.text(max_size=10)),
    st.builds("/{}/{}".format, st.text(max_size=10), st.text(max_size=10)),
)
LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
META_VALUE = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)
EVENT = st.builds(
    Event,
    ts=st.floats(0, 4e9),
    source=st.sampled_from(["fs", "shell", "app", "aw", "system"]),
    action=st.sampled_from(["create", "move", "command", "focus", "browse"]),
    path=st.none() | TEXT,
    dest=st.none() | TEXT,
    app=st.none() | TEXT,
    cmd=st.none() | TEXT,
    cwd=st.none() | TEXT,
    meta=st.dictionaries(TEXT, META_VALUE, max_size=4),
)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
SECRET = st.one_of(
    st.builds(
        "{}{}".format,
        st.sampled_from(["AKIA", "ASIA"]),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16),
    ),
    st.builds("ghp_{}".format, st.text(alphabet=_ALNUM, min_size=36, max_size=36)),
    st.builds("glpat-{}".format, st.text(alphabet=_ALNUM, min_size=20, max_size=20)),
    st.builds("xoxb-{}".format, st.text(alphabet=_ALNUM, min_size=24, max_size=30)),
    st.builds("sk-{}".format, st.text(alphabet=_ALNUM, min_size=32, max_size=48)),
    st.builds("npm_{}".format, st.text(alphabet=_ALNUM, min_size=36, max_size=36)),
)
SEPARATOR = st.sampled_from([" ", "\n", "=", ":", "'", '"', "\t", " --token ", "/"])


@PROFILE
@given(event=EVENT)
def test_apply_never_raises(event):
    for f in (DEFAULT, USER):
        out = f.apply(event)
        assert out is None or isinstance(out, Event)


@PROFILE
@given(text=TEXT)
def test_redact_exclude_and_scan_never_raise(text):
    for f in (DEFAULT, USER):
        assert isinstance(f.redact(text), str)
        f.is_excluded(text)
        f.needs_redaction(text)


@PROFILE
@given(
    before=st.text(max_size=20),
    sep1=SEPARATOR,
    secret=SECRET,
    sep2=SEPARATOR,
    after=st.text(max_size=20),
)
def test_a_known_secret_never_survives(before, sep1, secret, sep2, after):
    text = before + sep1 + secret + sep2 + after
    assert secret not in DEFAULT.redact(text)
    ev = DEFAULT.apply(Event(ts=1.0, source="shell", action="command", cmd=text, meta={"k": text}))
    assert ev is not None and secret not in ev.cmd and secret not in str(ev.meta)
