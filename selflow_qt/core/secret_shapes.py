"""What a secret looks like on its own: a generated token (length, alternating character classes,
entropy), a vendor prefix, a plausible password; and what is not one (a path, a file name, a
placeholder). ``secret_scan`` weighs these with the words around each value.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

from selflow_qt.core.secret_tables import KNOWN_PREFIXES, NOT_A_VALUE_NAME

_STRONG_WORD = re.compile(
    r"(?i)pass(?!age|ive|ing|enger|thr|port)|pwd|secret|token|cred(?:s|ential)|bearer"
    r"|api[_.-]?key|apikey|private[_.-]?key|auth[_.-]?key|access[_.-]?key|signing[_.-]?key"
)
_SOFT_WORD = re.compile(r"(?i)key|auth|cookie|session|sig(?:nature)?\b|private")
_PLACEHOLDER = re.compile(r"^(?:\$|%\w+%|<[^>]*>$|\*+$|x{3,}$|\.\.\.|-$|@|env:|file:|fd:|stdin)")
FILE_EXT = re.compile(
    r"(?i)\.(?:txt|md|log|csv|tsv|json|ya?ml|toml|ini|cfg|conf|xml|html?|pdf|docx?|xlsx?|zip"
    r"|tar|gz|tgz|bz2|xz|7z|rar|py|js|ts|sh|rb|go|rs|c|h|cpp|java|php|sql|db|sqlite|pem|key"
    r"|crt|cer|der|p12|pfx|jks|kdbx|gpg|asc|pub|lst|dic|hash|hashes|out|bin|img|iso|png|jpe?g"
    r"|gif|svg|mp[34]|wav|exe|dll|so|deb|rpm|apk|jar|whl|lock|env|bak|tmp)$"
)
_HEXISH = frozenset("0123456789abcdefABCDEF-")
_PREFIXES = tuple(prefix for prefix, _ in KNOWN_PREFIXES)


def _by_first_character(prefixes) -> dict[str, list[tuple[str, int]]]:
    """The prefixes by their first character, each list in the given order."""
    out: dict[str, list[tuple[str, int]]] = {}
    for prefix, body_min in prefixes:
        out.setdefault(prefix[0], []).append((prefix, body_min))
    return out


_PREFIXES_BY_FIRST = _by_first_character(KNOWN_PREFIXES)
_HASH_PREFIX = re.compile(r"(?i)^(?:sha(?:1|224|256|384|512)|md5|blake2b?|sri)[-:_]")

# Each ASCII letter or digit as its class (a, A, 0); the class changes are the pairs of two.
_CLASS_OF = str.maketrans(
    "bcdefghijklmnopqrstuvwxyzBCDEFGHIJKLMNOPQRSTUVWXYZ123456789", "a" * 25 + "A" * 25 + "0" * 9
)
_CHANGES = ("aA", "a0", "Aa", "A0", "0a", "0A")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")


def _classes(s: str) -> tuple[int, float]:
    """(classes present among lower/upper/digit, class changes per alnum pair).

    A separator starts a new piece: words joined by _ or - are not random. Counted by C string
    methods, not a Python loop per character (a 64 KB run of token characters took ~30 ms).
    """
    classes = s.translate(_CLASS_OF)
    kinds = ("a" in classes) + ("A" in classes) + ("0" in classes)
    if s.isascii() and s.isalnum():  # one run: the common token
        pairs = len(s) - 1
    else:
        runs = _ALNUM_RUN.findall(s)
        pairs = sum(map(len, runs)) - len(runs)
    changes = sum(classes.count(c) for c in _CHANGES)  # two unlike letters never overlap
    return kinds, changes / pairs if pairs else 0.0


@functools.lru_cache(maxsize=256)
def _entropy_terms(n: int) -> tuple[float, ...]:
    """c / n * log2(c / n) for c in 0..n: the same terms as computed one by one, looked up."""
    return (0.0, *(c / n * math.log2(c / n) for c in range(1, n + 1)))


def shannon_entropy(s: str) -> float:
    """Bits per character of ``s`` (0 for an empty text)."""
    n = len(s)
    if n == 0:
        return 0.0
    if n <= 256:  # a 64 KB text holds thousands of short words: their terms are looked up
        return -sum(map(_entropy_terms(n).__getitem__, Counter(s).values()))
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def looks_random(s: str, min_len: int = 16) -> bool:
    """A run of token characters as mixed as a generated key (not a word, hash or path)."""
    if len(s) < min_len or _HASH_PREFIX.match(s):
        return False
    if _HEXISH.issuperset(s):  # hashes, UUIDs and ids: only a prefix or a context says secret
        return False
    kinds, alternation = _classes(s)
    if kinds < 2 or alternation < 0.3:
        return False
    return shannon_entropy(s) >= min(3.6, math.log2(len(s)) * 0.85)


def has_vendor_prefix(s: str) -> bool:
    """A known token prefix followed by a random-enough body (``hf_...``, ``dop_v1_...``)."""
    if not s.startswith(_PREFIXES):  # one C call rejects most words
        return False
    for prefix, body_min in _PREFIXES_BY_FIRST[s[0]]:
        if s.startswith(prefix) and len(s) - len(prefix) >= body_min:
            body = s[len(prefix) :]
            return (
                looks_random(body, body_min)
                or (_HEXISH.issuperset(body) and len(body) >= 24)
                or len(body) >= 32
            )
    return False


_USER_HOST = re.compile(r"^[\w.-]{1,80}@[\w.-]{1,255}$")


def plausible_password(v: str) -> bool:
    """A value that may be a password when its surroundings say so: two kinds of character at
    least (not a word, words joined by - or _, a path, a port, a host or user@host)."""
    if len(v) < 6 or v.isdigit() and len(v) < 8 or is_path_or_file(v) or _USER_HOST.match(v):
        return False
    kinds = (
        any(c.islower() for c in v)
        + any(c.isupper() for c in v)
        + any(c.isdigit() for c in v)
        + any(not c.isalnum() and c not in "-_." for c in v)
    )
    if kinds < 2:
        return False
    return not ("." in v and v.replace(".", "").replace("-", "").isalnum() and v[-1].isalpha())


def is_path_or_file(v: str) -> bool:
    if v.startswith(("/", "~", "./", "../", "\\\\")) or FILE_EXT.search(v):
        return True
    return "/" in v and not looks_random(v.replace("/", ""), 16)


# An HTTP auth scheme names how the credential after it is sent; it is not the credential.
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "ntlm"})


def is_placeholder(v: str) -> bool:
    return not v or "REDACTED" in v or v.lower() in _AUTH_SCHEMES or bool(_PLACEHOLDER.match(v))


@functools.lru_cache(maxsize=4096)
def names_secret(name: str, strong_only: bool = False) -> bool:
    if NOT_A_VALUE_NAME.search(name):
        return False
    return bool(_STRONG_WORD.search(name) or (not strong_only and _SOFT_WORD.search(name)))


def value_ok(v: str, strong: bool) -> bool:
    """Whether a value in a credential position should go."""
    if is_placeholder(v):
        return False
    if strong:
        return not is_path_or_file(v) or looks_random(v, 12)
    return plausible_password(v) or looks_random(v, 12)
