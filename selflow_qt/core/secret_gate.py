"""The cheap gate of the secret checks: one regex over lower-cased text that every text holding a
secret matches (a word naming one, a tool with password flags, a long token run, a syntax that
carries one). Text it rejects is never split into words; its literals go into one trie.
"""

from __future__ import annotations

import re

from selflow_qt.core.secret_tables import ATTACHED_FLAGS, POSITIONAL, TOOL_FLAGS

# On lower-cased text: a long token run, a word naming a secret, a tool with password
# flags, or a syntax that carries one (user%pw, user:pw@host, a here-string, echo piped on,
# Windows /p:). Literals go into one trie: Python's engine then rejects most positions at once.
_TOOLS = {*TOOL_FLAGS, *ATTACHED_FLAGS, *(t for t, _ in POSITIONAL)}
HINT_WORDS = (
    ("pass", "pwd", "secret", "token", "key", "auth", "cred", "cookie", "session", "bearer")
    + ("echo", "printf", "<<<", "/p:")
    + tuple(t if len(t) > 3 else t + " " for t in _TOOLS)  # "az ", not every "lazy"
)
# Each alternative is cheap to reject: '%' and '@' are rare, runs are checked by class.
HINT_SHAPES = r"[a-z0-9_+=-]{16}|[\"'][a-z0-9+/=_-]{16}|\w%\S|:[^\s/@:]{1,256}@"
# Lower case, every digit a 0: the key under which a file name's gate answer is kept.
ZERO_DIGITS = bytes.maketrans(
    b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"000000000abcdefghijklmnopqrstuvwxyz"
)


def trie_pattern(words) -> str:
    """One regex for "any of these literals", factored as a trie ("pass|pwd" -> "p(?:ass|wd)"),
    so the engine rejects most positions on their first character."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        if "" in node:  # a whole literal ends here: longer ones add nothing to "any of"
            return ""
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return build(trie)


def gate_pattern(literals=(), zero_digits: bool = False) -> str:
    """The hint regex (for lower-cased text) with more literals in its trie; ``zero_digits``:
    for text whose digits were all turned into 0 (``ZERO_DIGITS``), so a superset."""
    words = {*HINT_WORDS, *literals}
    if zero_digits:
        words = {w.encode().translate(ZERO_DIGITS).decode() for w in words}
    return trie_pattern(words) + "|" + HINT_SHAPES


HINT = re.compile(gate_pattern())


def might_hold_secret(text: str) -> bool:
    """False only when no word of ``text`` can be judged a secret (the common case)."""
    return HINT.search(text.lower()) is not None
