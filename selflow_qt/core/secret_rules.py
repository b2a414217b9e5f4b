"""The secret shapes SelFlow redacts: credential-bearing shell, URL and title shapes, plus one
rule per family of detect-secrets' plugin set (AWS, Azure, Artifactory, basic auth, Cloudant,
Discord, GitHub, GitLab, high-entropy quoted strings, IBM, JWT, keywords, Mailchimp, npm,
OpenAI, private keys, PyPI, SendGrid, Slack, SoftLayer, Square, Stripe, Telegram, Twilio).

Every quantifier is bounded, so one rule costs time linear in the text however it is built
(a 128 KB command is redacted in milliseconds, not seconds). Rules with ``triggers`` run only on
text containing one of them (lower-cased); ``SHAPE_RULES`` have no literal prefix and run only on
text holding a long token (``LONG_TOKEN``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from selflow_qt.core.secret_shapes import shannon_entropy

REDACTED = "[REDACTED]"
# A quoted or bare value, at most 512 characters (a longer one is redacted up to there).
VALUE = r"(\"[^\"\n]{0,512}\"?|'[^'\n]{0,512}'?|(?!\[REDACTED\])[^\s\"']{1,512})"
Replacement = str | Callable[[re.Match[str]], str]


def _value(m: re.Match[str]) -> str:
    """Keeps group 1 (the name or flag) and the value's quotes; the value itself goes."""
    v = m.group(2)
    q = v[0] if v[0] in "\"'" and len(v) > 1 and v[-1] == v[0] else ""
    return m.group(1) + q + REDACTED + q


@dataclass(frozen=True)
class SecretRule:
    """One redaction: a pattern, its replacement, and cheap lower-case triggers.

    The pattern only runs on text containing one of the triggers (all of them if empty),
    which keeps redaction of ordinary events near free.
    """

    pattern: str
    replacement: Replacement
    triggers: tuple[str, ...] = ()


_KEY_BEGIN = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-"
)


def redact_private_keys(text: str) -> str:
    """Private key blocks (PEM, OpenSSH, PGP, PuTTY) go whole: from BEGIN to the end of their
    END line, or to the end of the text; one pass, so linear in the text."""
    out: list[str] = []
    pos = 0
    for m in _KEY_BEGIN.finditer(text):
        if m.start() < pos:
            continue
        out.append(text[pos : m.start()])
        out.append(REDACTED)
        end = text.find("-----END", m.end()) if m.group(0).startswith("-") else -1
        close = text.find("-----", end + 8) if end >= 0 else -1
        pos = close + 5 if close >= 0 else len(text)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_MYSQL_WORD = r"\bmysql(?:dump|admin|sh)?\b"
_LOGIN_WORDS = r"\b(?:docker|podman|buildah|skopeo|helm|oras|nerdctl)\s+(?:registry\s+)?login\b"


def _args_until(command: str) -> str:
    """Up to 256 characters of one command's arguments that stop before the next ``command``.

    Each match of the command scans its arguments; without the stop, text that repeats the
    command word ("mysql mysql mysql ...") was scanned 256 characters from every repeat (64 KB:
    ~40 ms). The later repeat is nearer to any flag, so what is redacted stays the same.
    """
    return r"(?:(?!" + command + r")[^|;&\n]){0,256}?"


_HTPASSWD_BATCH = re.compile(r"\s-[a-zA-Z]*b")


def _htpasswd(m: re.Match[str]) -> str:
    """``htpasswd -b FILE USER PASSWORD``: the last argument is the password."""
    text = m.group(0)
    if not _HTPASSWD_BATCH.search(text):
        return text
    head, _, last = text.rstrip().rpartition(" ")
    return f"{head} {REDACTED}" if head and last else text


_HEX = frozenset("0123456789abcdefABCDEF")


def _high_entropy(m: re.Match[str]) -> str:
    """Quoted strings as random as detect-secrets' thresholds (base64 4.5, hex 3.0 bits)."""
    body = m.group(2)
    hexish = _HEX.issuperset(body)
    if hexish and body.isdigit():
        return m.group(0)  # a long number is not a key
    limit = 3.0 if hexish else 4.5
    if math.log2(len(set(body))) <= limit:  # k distinct characters hold at most log2(k) bits
        return m.group(0)
    return m.group(1) + REDACTED + m.group(1) if shannon_entropy(body) > limit else m.group(0)


# Names that say "the value is a secret" in assignments, flags, meta keys and JSON.
SECRET_WORDS = (
    r"passw(?:or)?d|passphrase|pass|pwd|secret|token|api[_-]?key|apikey|auth[_-]?key"
    r"|access[_-]?key|private[_-]?key|priv[_-]?key|client[_-]?key|account[_-]?key|service[_-]?key"
    r"|credentials?|contrase[nñ]a|session[_-]?id|cookie"
)
SECRET_NAME = re.compile(r"(?i)(?:" + SECRET_WORDS + r"|[_-]key\b)")
# The words' first letters, tried before the words: in a name of up to 40 characters the
# alternation is tried at every position, and most positions hold none of these letters.
SECRET_WORD = (
    "(?=[" + "".join(sorted({w[0] for w in SECRET_WORDS.split("|")})) + "])(?:" + SECRET_WORDS + ")"
)
_NAME_TRIGGERS = ("pass", "pwd", "secret", "token", "key", "credential", "contras", "session")

TRIGGERED_RULES: tuple[SecretRule, ...] = (
    # scheme://user:password@host, the password may hold '/' or '@' (basic auth, Cloudant)
    SecretRule(
        r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}://)[^/\s:@\"']{0,256}:[^\s\"']{0,512}@",
        r"\g<pre>" + REDACTED + "@",
        ("://",),
    ),
    # secrets in URL query strings, OAuth codes included
    SecretRule(
        r"(?i)([?&#;](?:password|passwd|pwd|pass|token|access_token|refresh_token|id_token|auth"
        r"|api_key|apikey|key|secret|client_secret|sig|signature|code|session|sessionid|sid"
        r"|x-amz-signature|x-amz-credential|x-amz-security-token|private_token|_authtoken)=)"
        r"[^&\s#\"']{1,1024}",
        r"\1" + REDACTED,
        (
            "pass",
            "pwd",
            "token",
            "auth",
            "key",
            "secret",
            "sig",
            "code=",
            "sid=",
            "session",
            "x-amz",
        ),
    ),
    # AWS access key ids and secret keys (also `aws configure set aws_secret_access_key X`)
    SecretRule(
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
        REDACTED,
        ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa"),
    ),
    SecretRule(
        r"(?i)(\b(?:aws_secret_access_key|aws_session_token|secret_access_key)[\"']?"
        r"(?:\s*[=:]\s*|\s+(?![=:\s])))" + VALUE,
        _value,
        ("aws_s", "secret_access"),
    ),
    # GitHub, GitLab, Slack, npm, PyPI, OpenAI/Anthropic-style, Google, Stripe, SendGrid, Square
    SecretRule(
        r"\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,255}",
        REDACTED,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    SecretRule(
        r"\b(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas)-[A-Za-z0-9_-]{20,1024}"
        r"|\bGR1348941[A-Za-z0-9_-]{20,50}",
        REDACTED,
        ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-", "glagent-")
        + ("gloas-", "gr1348941"),
    ),
    SecretRule(r"\bxox[abposre]-[A-Za-z0-9-]{10,255}", REDACTED, ("xox",)),
    SecretRule(
        r"(https://hooks\.slack\.com/services/)[^\s\"']{1,255}", r"\1" + REDACTED, ("hooks.slack",)
    ),
    SecretRule(r"\bnpm_[A-Za-z0-9]{36}\b", REDACTED, ("npm_",)),
    SecretRule(r"(?i)(:_authtoken\s*=\s*)" + VALUE, _value, ("_authtoken",)),
    SecretRule(r"\bpypi-[A-Za-z0-9_-]{50,1024}", REDACTED, ("pypi-",)),
    SecretRule(r"\bsk-[A-Za-z0-9_-]{20,255}", REDACTED, ("sk-",)),
    SecretRule(r"\bAIza[0-9A-Za-z_-]{35}\b", REDACTED, ("aiza",)),
    SecretRule(r"\b[rsp]k_(?:live|test)_[0-9a-zA-Z]{16,255}", REDACTED, ("k_live_", "k_test_")),
    SecretRule(r"\bSG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}", REDACTED, ("sg.",)),
    SecretRule(r"\bsq0(?:csp|atp)-[0-9A-Za-z\\_-]{22,60}", REDACTED, ("sq0",)),
    SecretRule(
        r"(?i)(api\.softlayer\.com/soap/v3(?:\.1)?/)[a-z0-9]{64}", r"\1" + REDACTED, ("softlayer",)
    ),
    SecretRule(
        r"\beyJ[A-Za-z0-9_=-]{8,4096}\.[A-Za-z0-9_=-]{8,4096}(?:\.[A-Za-z0-9_.+/=-]{0,4096})?",
        REDACTED,
        ("eyj",),
    ),
    SecretRule(r"(?i)(AccountKey=)[a-zA-Z0-9+/=]{20,128}", r"\1" + REDACTED, ("accountkey",)),
    # Authorization and other credential-bearing headers (quoted values too)
    SecretRule(
        r"(?i)(\b(?:proxy-)?authorization\s*[:=]\s*(?:(?:bearer|basic|token|digest|negotiate)\s+)?)"
        r"(?!(?:bearer|basic|token|digest|negotiate)\s)" + VALUE,
        _value,
        ("authoriz",),
    ),
    SecretRule(
        r"(?i)(\b(?:x-api-key|api-key|x-auth-token|private-token|x-access-token|cookie|set-cookie)"
        r"\s*:\s*)(\"[^\"\n]{0,1024}\"?|'[^'\n]{0,1024}'?|[^\"'\n]{1,1024})",
        r"\1" + REDACTED,
        ("api-key", "-token", "cookie"),
    ),
    # --password=x, --token x, -auth x style flags
    SecretRule(
        r"(?i)(--?(?:password|passwd|passphrase|pass|token|secret|client[-_]?secret|api[-_]?key"
        r"|access[-_]?key|secret[-_]?key|auth|auth[-_]?token|with-token|webhook-secret)"
        r"(?:=|\s+))" + VALUE,
        _value,
        ("pass", "token", "secret", "key", "auth"),
    ),
    # curl -u user:pw, --user, --proxy-user; the user name stays
    SecretRule(
        r"((?:^|\s)(?:-u|-U|--user|--proxy-user)(?:\s+|=)[\"']?[^\s:\"']{1,256}:)(?!//)"
        r"[^\s\"']{1,512}",
        r"\1" + REDACTED,
        ("-u", "--user", "-proxy-user"),
    ),
    # mysql -pSECRET (also mysqldump, mysqladmin, mysqlsh); "-p" alone prompts and is kept
    SecretRule(
        r"(" + _MYSQL_WORD + _args_until(_MYSQL_WORD) + r"\s-p)" + VALUE, _value, ("mysql",)
    ),
    SecretRule(r"(\bsshpass\s+-p\s*)" + VALUE, _value, ("sshpass",)),
    # docker/podman/helm ... login -p SECRET
    SecretRule(
        r"(" + _LOGIN_WORDS + _args_until(_LOGIN_WORDS) + r"\s-p(?:\s+|=))" + VALUE,
        _value,
        ("login",),
    ),
    # openssl ... -passin pass:X, -passout pass:X, -pass pass:X, -k pass:X
    SecretRule(r"(?i)(\bpass:)" + VALUE, _value, ("pass:",)),
    # htpasswd -b[c] FILE USER PASSWORD
    SecretRule(r"\bhtpasswd\s[^|;&\n]{0,1024}", _htpasswd, ("htpasswd",)),
    # NAME=value, NAME: value, NAME => value where the name says secret (keyword family)
    SecretRule(
        r"(?i)(?<![?&])((?<![a-z0-9_.-])[a-z0-9_.-]{0,40}" + SECRET_WORD + r"[a-z0-9_.-]{0,40}"
        r"[\"']?\s{0,8}(?::=|=>|==|=|:)\s{0,8})" + VALUE,
        _value,
        _NAME_TRIGGERS,
    ),
    SecretRule(
        r"(?i)(\"[a-z0-9_.-]{0,40}" + SECRET_WORD + r"[a-z0-9_.-]{0,40}\"\s{0,8}:\s{0,8})"
        r"\"(?:[^\"\\\n]|\\.){0,1024}\"",
        r"\1" + '"' + REDACTED + '"',
        _NAME_TRIGGERS,
    ),
    # a window title or note "password X" / "password is X" / "token X"
    # (the value must have a capital, digit or symbol: "passwd admin", "token parsing" stay)
    SecretRule(
        r"(?i)(\b(?:password|passphrase|pin|token)\s+(?:is\s+)?)(?!\[REDACTED\])"
        r"(?=[^\s\"':=]{0,511}(?-i:[A-Z0-9!#$%&*+?@^~]))([^\s\"':=]{3,512})",
        r"\1" + REDACTED,
        ("passw", "passph", "pin ", "token"),
    ),
)

# Long runs of token characters: only text holding one is checked against SHAPE_RULES.
LONG_TOKEN = re.compile(r"[A-Za-z0-9_+=-]{20}|[\"'][A-Za-z0-9+/=_-]{20}")
SHAPE_RULES: tuple[SecretRule, ...] = (
    SecretRule(r"(?<![A-Za-z0-9])AKC[a-zA-Z0-9]{10,255}", REDACTED),  # Artifactory token
    SecretRule(r"(?<![A-Za-z0-9])AP[0-9ABCDEF][a-zA-Z0-9]{8,255}(?![A-Za-z0-9])", REDACTED),
    SecretRule(r"[MNO][a-zA-Z0-9_-]{23,25}\.[a-zA-Z0-9_-]{6}\.[a-zA-Z0-9_-]{27}", REDACTED),
    SecretRule(r"\b[0-9a-z]{32}-us[0-9]{1,2}\b", REDACTED),  # Mailchimp
    SecretRule(r"(?<![0-9])[0-9]{8,10}:[0-9A-Za-z_-]{35}", REDACTED),  # Telegram bot
    SecretRule(r"\b(?:AC|SK)[a-z0-9]{32}\b", REDACTED),  # Twilio
    SecretRule(r"([\"'])([A-Za-z0-9+/=_-]{20,1024})\1", _high_entropy),
)
