"""The privacy filter's shortcuts answer as the plain definitions do."""

from __future__ import annotations

import math
import random
import re
from collections import Counter

import pytest

from selflow_qt.core.secret_rules import SECRET_WORD, SECRET_WORDS
from selflow_qt.core.secret_shapes import shannon_entropy


def test_every_secret_word_starts_with_a_letter_the_lookahead_allows() -> None:
    words = SECRET_WORDS.split("|")
    for w in words:
        re.compile(w)  # a top-level alternative: a nested "|" would break the first letters
    for w in words + ["PASSWORD", "Api_Key", "Cookie", "TOKEN", "secret", "contraseña"]:
        assert re.fullmatch("(?i)" + SECRET_WORD, w) or not re.fullmatch("(?i)" + SECRET_WORDS, w)
    assert re.fullmatch("(?i)" + SECRET_WORD, "PASSWORD")


@pytest.mark.parametrize("seed", range(5))
def test_entropy_is_the_shannon_entropy(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        alphabet = "abcdefABCDEF0123456789+/=_-"[: rng.randint(1, 27)]
        s = "".join(rng.choices(alphabet, k=rng.randint(1, 400)))
        n = len(s)
        plain = -sum(c / n * math.log2(c / n) for c in Counter(s).values())
        assert shannon_entropy(s) == plain
    assert shannon_entropy("") == 0.0 and shannon_entropy("ab" * 8) == 1.0


def test_vendor_prefixes_are_judged_as_by_the_plain_loop() -> None:
    from selflow_qt.core.secret_shapes import _HEXISH, has_vendor_prefix, looks_random
    from selflow_qt.core.secret_tables import KNOWN_PREFIXES

    def plain(s: str) -> bool:
        for prefix, body_min in KNOWN_PREFIXES:
            if s.startswith(prefix) and len(s) - len(prefix) >= body_min:
                body = s[len(prefix) :]
                return (
                    looks_random(body, body_min)
                    or (_HEXISH.issuperset(body) and len(body) >= 24)
                    or len(body) >= 32
                )
        return False

    rng = random.Random(1)
    alphabet = "abcdefABCDEF0123456789_-xyzXYZ"
    for prefix, _ in KNOWN_PREFIXES:
        for n in (0, 8, 16, 24, 31, 32, 40, 64):
            body = "".join(rng.choices(alphabet, k=n))
            for s in (prefix + body, prefix[:-1] + body, body):
                assert has_vendor_prefix(s) == plain(s), s
