"""A scored check of every word that looks like a secret by its shape and surroundings: what the
hand-written rules of ``secret_rules`` have no pattern for.

Each whitespace-separated word of a text is judged by what it looks like (length, how its
character classes alternate, entropy, a vendor prefix) and by what stands around it (a
credential flag of the command it belongs to, a key name before it, ``KEY=VALUE``, ``user%pw``,
``user:pw@host``, a value echoed into a command that reads a password from standard input).
``secret_gate.might_hold_secret`` is the cheap gate: text it rejects is never split into words;
``secret_shapes`` judges a value on its own.
"""

from __future__ import annotations

import re

from selflow_qt.core.secret_gate import might_hold_secret
from selflow_qt.core.secret_shapes import (
    FILE_EXT,
    has_vendor_prefix,
    is_path_or_file,
    is_placeholder,
    looks_random,
    names_secret,
    value_ok,
)
from selflow_qt.core.secret_tables import (
    ATTACHED_FLAGS,
    GENERIC_SHORT_FLAGS,
    NOT_A_VALUE_NAME,
    POSITIONAL,
    RESOURCE_VERBS,
    SETTING_VERBS,
    STDIN_READER,
    TOOL_FLAGS,
    USER_FLAGS,
)

REDACTED = "[REDACTED]"
_WORD = re.compile(r"\S+")
MAX_WORDS = 2048  # words judged with their surroundings; a longer text's rest by shape
_RUN = re.compile(r"[A-Za-z0-9_+=-]{16,4096}")
_SEPARATORS = frozenset({"|", "||", "&&", ";", "|&", "&", "(", ")", "{", "}"})
_WRAPPERS = frozenset({"sudo", "doas", "env", "time", "nohup", "exec", "command", "xargs", "nice"})
_TRIM = "\"'`,;()[]{}<>"
_ASSIGN = re.compile(r"^\$?(?:env:)?([A-Za-z_][A-Za-z0-9_.:-]{0,80})(?::=|=)(.+)$")
_USER_PCT = re.compile(r"^(?:[\w.-]{1,80}[/\\])?[\w.@-]{1,80}%([^%\s]+)$")
_USER_AT = re.compile(r"^(?:[\w.-]{1,80}/)?[\w.$\\-]{1,80}:([^\s@/]{1,512})@[\w-]+(?:\.[\w-]+)*$")
_SQLPLUS = re.compile(r"^[\w.$-]{1,80}/([^\s@/]{1,512})(?:@\S*)?$")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_XML_VALUE = re.compile(r"^<?([\w.:-]{1,80})>([^<>\s]{1,1024})</\1>?$")
_WIN_PASS = re.compile(r"(?i)^/(?:p|pass|password|pwd):(.+)$")


def _core(word: str) -> tuple[int, int]:
    """Offsets of ``word`` without its quotes and trailing punctuation."""
    a, b = 0, len(word)
    while a < b and word[a] in _TRIM:
        a += 1
    while b > a and word[b - 1] in _TRIM:
        b -= 1
    return a, b


class _Scan:
    """One text's words, walked once; ``spans`` collects (start, end) to redact."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        self.spans: list[tuple[int, int]] = []
        self._cores: dict[int, tuple[int, int, str]] = {}

    def word(self, i: int) -> str:
        s, e = self.words[i]
        return self.text[s:e]

    def core(self, i: int) -> tuple[int, int, str]:
        got = self._cores.get(i)  # a word is asked for again as the next words' key and verb
        if got is None:
            s, e = self.words[i]
            a, b = _core(self.text[s:e])
            got = self._cores[i] = (s + a, s + b, self.text[s + a : s + b])
        return got

    def mark(self, start: int, end: int) -> None:
        if end > start:
            self.spans.append((start, end))

    def run(self) -> list[tuple[int, int]]:
        if len(self.words) > MAX_WORDS:  # a pasted blob: context for the first words only,
            tail = self.words[MAX_WORDS][0]  # shape alone for the rest (linear, and cheap)
            for m in _RUN.finditer(self.text, tail):
                if looks_random(m.group(0)) or has_vendor_prefix(m.group(0)):
                    self.mark(m.start(), m.end())
            self.words = self.words[:MAX_WORDS]
        segments: list[list[int]] = [[]]
        for i in range(len(self.words)):
            w = self.word(i)
            if w in _SEPARATORS:
                segments.append([])
            else:
                segments[-1].append(i)
                if w.endswith(";") and len(w) > 1:
                    segments.append([])
        for n, seg in enumerate(segments):
            self.segment(seg, segments[n + 1] if n + 1 < len(segments) else None)
        return self.spans

    def segment(self, seg: list[int], following: list[int] | None) -> None:
        cmd, verb, start = "", "", len(seg)
        for k, i in enumerate(seg):  # the command word: after wrappers and VAR=value
            s, e, c = self.core(i)
            m = _ASSIGN.match(c)
            if m:
                self.assignment(m, s)
                continue
            base = c.rsplit("/", 1)[-1].lower()
            if base in _WRAPPERS or (c.startswith("-") and cmd == ""):
                continue
            cmd, start = base.removesuffix(".exe").removesuffix(".py"), k + 1
            if not self.shaped(s, c, ""):  # a lone word (a meta key, a title) is judged too
                self.standalone(s, c)
            break
        rest = seg[start:]
        if rest:
            verb = self.core(rest[0])[2].lower()
        if cmd in ("echo", "printf") and following and self._reads_stdin(following):
            for i in rest:
                s, e, c = self.core(i)
                if not c.startswith("-") and value_ok(c, strong=True):
                    self.mark(s, e)
            return
        self.words_of(cmd, verb, rest)

    def _reads_stdin(self, seg: list[int]) -> bool:
        if not seg:
            return False
        s, e = self.words[seg[0]][0], self.words[seg[-1]][1]
        return STDIN_READER.search(self.text[s:e]) is not None

    def assignment(self, m: re.Match[str], start: int) -> None:
        name, value = m.group(1), m.group(2)
        vs = start + m.start(2)
        a, b = _core(value)
        v = value[a:b]
        if names_secret(name) and value_ok(v, strong=names_secret(name, True)):
            self.mark(vs + a, vs + b)
        else:
            self.standalone(vs + a, v)

    def words_of(self, cmd: str, verb: str, idx: list[int]) -> None:
        tool = TOOL_FLAGS.get(cmd, frozenset())
        attached = ATTACHED_FLAGS.get(cmd, frozenset())
        positional = POSITIONAL.get((cmd, verb), POSITIONAL.get((cmd, ""), 0))
        setting = cmd in SETTING_VERBS or verb in SETTING_VERBS
        skip = -1
        n_pos = 0
        reads_stdin: bool | None = None  # asked once per segment (a here-string is rare)
        for k, i in enumerate(idx):
            if k <= skip:
                continue
            if self.word(i) == "<<<" and k + 1 < len(idx):
                if reads_stdin is None:
                    reads_stdin = self._reads_stdin(idx)
                if not reads_stdin:
                    continue
                vs, ve, v = self.core(idx[k + 1])
                if value_ok(v, strong=True):
                    self.mark(vs, ve)
                skip = k + 1
                continue
            s, e, c = self.core(i)
            if not c:
                continue
            if c.startswith("-") and len(c) > 1 and not c[1:2].isdigit():
                skip = self.flag(cmd, tool, attached, idx, k, s, c)
                continue
            after_value = k - 1 == skip  # the word before was a flag's value, not a key
            n_pos += 1
            if positional and n_pos == positional + (verb and (cmd, verb) in POSITIONAL):
                if not is_placeholder(c):
                    self.mark(s, e)
                continue
            if self.shaped(s, c, cmd):
                continue
            prev = self.core(idx[k - 1])[2] if k > 0 else ""
            before = self.core(idx[k - 2])[2].lower() if k > 1 else ""
            if prev and not after_value and self._key_before(prev, before, setting):
                if value_ok(c, strong=False):
                    self.mark(s, e)
                    continue
            self.standalone(s, c)

    def _key_before(self, key: str, before: str, setting: bool) -> bool:
        """Whether ``key`` (the word before a value) names the value a secret."""
        if is_path_or_file(key) or before in RESOURCE_VERBS or "=" in key:
            return False
        if not names_secret(key):
            return False
        # A bare noun ("secret", "token") is a key only after a setting verb; a key name
        # (GITHUB_TOKEN, npmAuthToken, github.token, requirepass) is one anywhere.
        return setting or not key.isalpha() or not key.islower() or key.startswith("pass")

    def flag(
        self,
        cmd: str,
        tool: frozenset[str],
        attached: frozenset[str],
        idx: list[int],
        k: int,
        s: int,
        c: str,
    ) -> int:
        """Judges a flag and its value; returns the last index it consumed."""
        name, eq, value = c.partition("=")
        lname = name.lstrip("-").lower()
        if not eq:
            for f in attached:  # -pSECRET
                if c.startswith(f) and len(c) > len(f) and c not in tool:
                    if not is_placeholder(c[len(f) :]):
                        self.mark(s + len(f), s + len(c))
                    return k
        named = names_secret(lname) and not NOT_A_VALUE_NAME.search(lname)
        if name in USER_FLAGS or (cmd in ("smbclient", "rpcclient", "net") and name == "-U"):
            return self.user_value(idx, k, s, c, eq)
        if not (named or name in tool or name in GENERIC_SHORT_FLAGS):
            if eq:
                self.standalone(s + len(name) + 1, value)
            return k
        strong = name in tool or (named and names_secret(lname, True))
        if eq:
            v_start, v = s + len(name) + 1, value
            consumed = k
        elif k + 1 < len(idx):
            v_start, _, v = self.core(idx[k + 1])
            consumed = k + 1
        else:
            return k
        if v.startswith("-") and not eq:
            return k  # the next flag, not a value
        if named or name in tool:
            ok = value_ok(v, strong)
        else:  # -p/-a/-k of a tool we do not know: only a value shaped like a key
            ok = not is_placeholder(v) and (looks_random(v, 10) or has_vendor_prefix(v))
        if ok:
            self.mark(v_start, v_start + len(v))
        else:
            self.standalone(v_start, v)
        return consumed

    def user_value(self, idx: list[int], k: int, s: int, c: str, eq: str) -> int:
        """-U user%pw, --user user:pw (curl's is a rule), lftp -u user,pw."""
        if eq:
            v_start, v = s + c.index("=") + 1, c.partition("=")[2]
            consumed = k
        elif k + 1 < len(idx):
            v_start, _, v = self.core(idx[k + 1])
            consumed = k + 1
        else:
            return k
        for sep in ("%", ",", ":") if c.startswith("--") else ("%", ","):
            if sep in v:
                cut = v.index(sep) + 1
                if cut < len(v) and not is_placeholder(v[cut:]):
                    self.mark(v_start + cut, v_start + len(v))
                return consumed
        return consumed

    def shaped(self, s: int, c: str, cmd: str) -> bool:
        """Secrets carried inside another word's syntax (each shape's telling character is
        looked for first: most words have none)."""
        m = _USER_PCT.match(c) if "%" in c else None
        if m and not _HEX2.match(m.group(1)):  # %20 is URL encoding, not a password
            self.mark(s + m.start(1), s + m.end(1))
            return True
        m = _USER_AT.match(c) if "@" in c else None
        if m and "://" not in c and not FILE_EXT.search(c):
            if not is_placeholder(m.group(1)):
                self.mark(s + m.start(1), s + m.end(1))
            return True
        m = _XML_VALUE.match(c) if ">" in c else None
        if m and names_secret(m.group(1)):
            if not is_placeholder(m.group(2)):
                self.mark(s + m.start(2), s + m.end(2))
            return True
        m = _WIN_PASS.match(c) if c[:1] == "/" else None
        if m:
            self.mark(s + m.start(1), s + m.end(1))
            return True
        if cmd in ("sqlplus", "rman", "expdp", "impdp", "sqlldr", "exp", "imp"):
            m = _SQLPLUS.match(c)
            if m:
                self.mark(s + m.start(1), s + m.end(1))
                return True
        return False

    def standalone(self, start: int, c: str) -> None:
        """A word with no telling surroundings goes only when its shape alone says key."""
        if len(c) < 16 and not c.startswith(("hf_", "r8_", "xai-")):
            return
        if has_vendor_prefix(c):
            self.mark(start, start + len(c))
            return
        for m in _RUN.finditer(c):
            run = m.group(0)
            if looks_random(run) or has_vendor_prefix(run):
                self.mark(start + m.start(), start + m.end())


def find_secrets(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` judged secret, sorted, non-overlapping."""
    spans = sorted(_Scan(text).run())
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def redact_found(text: str) -> str:
    """``text`` with every span ``find_secrets`` reports replaced by ``[REDACTED]``."""
    if not might_hold_secret(text):
        return text
    spans = find_secrets(text)
    if not spans:
        return text
    out, pos = [], 0
    for s, e in spans:
        out.append(text[pos:s])
        out.append(REDACTED)
        pos = e
    out.append(text[pos:])
    return "".join(out)
