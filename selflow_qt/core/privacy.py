"""Privacy rules: excluded paths are dropped and secrets redacted before anything is written."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from selflow_qt.core.event import Event

# Matched against every path segment sequence; "**/x/**" means a folder x anywhere.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    "**/.cache/**",
    "**/__pycache__/**",
    "**/.pytest_cache/**",
    "**/.mypy_cache/**",
    "**/.ruff_cache/**",
    "**/.git/**",
    "**/.hg/**",
    "**/.svn/**",
    "**/node_modules/**",
    "**/.venv/**",
    "**/venv/**",
    "**/.tox/**",
    "**/site-packages/**",
    "**/build/**",
    "**/dist/**",
    "**/target/**",
    "**/.gradle/**",
    "**/*.pyc",
    "**/*.o",
    "**/*.swp",
    "**/*~",
    "**/.mozilla/**",
    "**/.config/google-chrome/**",
    "**/.config/chromium/**",
    "**/.config/BraveSoftware/**",
    "**/snap/firefox/**",
    "**/Library/Application Support/Google/Chrome/**",
    "**/Library/Application Support/Firefox/**",
    "**/Library/Safari/**",
    "**/AppData/Local/Google/Chrome/**",
    "**/AppData/Roaming/Mozilla/**",
    "**/.ssh/**",
    "**/.gnupg/**",
    "**/.aws/**",
    "**/.docker/config.json",
    "**/.kube/config",
    "**/.netrc",
    "**/.pgpass",
    "**/.git-credentials",
    "**/.local/share/keyrings/**",
    "**/Library/Keychains/**",
    "**/.password-store/**",
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
    "**/*.kdbx",
    "**/.env",
    "**/.env.*",
    "**/.local/share/selflow/**",
    "**/selflow.db*",
)

_REDACTED = "[REDACTED]"
_VALUE = r"(\"[^\"]*\"|'[^']*'|[^\s\"']+)"  # a quoted or bare value


@dataclass(frozen=True)
class SecretRule:
    """One redaction: a pattern, its replacement, and cheap lower-case triggers.

    The pattern only runs on text containing one of the triggers (all of them if empty),
    which keeps redaction of ordinary events near free.
    """

    pattern: str
    replacement: str
    triggers: tuple[str, ...] = ()


SECRET_RULES: tuple[SecretRule, ...] = (
    # URLs with credentials: scheme://user:pass@host (the password may contain '@')
    SecretRule(
        r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@\"']*:[^/\s\"']*@",
        r"\g<pre>" + _REDACTED + "@",
        ("://",),
    ),
    # Secrets in URL query strings
    SecretRule(
        r"(?i)([?&](?:password|passwd|pwd|token|access_token|refresh_token|auth|api_key|apikey"
        r"|key|secret|client_secret|sig|signature)=)[^&\s#\"']+",
        r"\1" + _REDACTED,
        ("pass", "pwd", "token", "auth", "key", "secret", "sig"),
    ),
    # AWS access key ids and secret keys
    SecretRule(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", _REDACTED, ("akia", "asia")),
    SecretRule(
        r"(?i)(aws_secret_access_key\s*[=:]\s*)" + _VALUE, r"\1" + _REDACTED, ("aws_secret",)
    ),
    # GitHub, GitLab, Slack, npm, PyPI, OpenAI/Anthropic-style, Google API keys, JWTs
    SecretRule(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b", _REDACTED, ("gh",)),
    SecretRule(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b", _REDACTED, ("github_pat_",)),
    SecretRule(r"\bglpat-[A-Za-z0-9_-]{20,}\b", _REDACTED, ("glpat-",)),
    SecretRule(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", _REDACTED, ("xox",)),
    SecretRule(r"(https://hooks\.slack\.com/services/)\S+", r"\1" + _REDACTED, ("hooks.slack",)),
    SecretRule(r"\bnpm_[A-Za-z0-9]{36}\b", _REDACTED, ("npm_",)),
    SecretRule(r"\bpypi-[A-Za-z0-9_-]{50,}", _REDACTED, ("pypi-",)),
    SecretRule(r"\bsk-[A-Za-z0-9_-]{20,}", _REDACTED, ("sk-",)),
    SecretRule(r"\bAIza[0-9A-Za-z_-]{35}\b", _REDACTED, ("aiza",)),
    SecretRule(
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", _REDACTED, ("eyj",)
    ),
    # Authorization and other credential-bearing headers (quoted values too)
    SecretRule(
        r"(?i)(\b(?:proxy-)?authorization\s*[:=]\s*(?:(?:bearer|basic|token|digest|negotiate)\s+)?)"
        + _VALUE,
        r"\1" + _REDACTED,
        ("authoriz",),
    ),
    SecretRule(
        r"(?i)(\b(?:x-api-key|api-key|x-auth-token|private-token|x-access-token|cookie|set-cookie)"
        r"\s*:\s*)(\"[^\"]*\"|'[^']*'|[^\"'\n]+)",
        r"\1" + _REDACTED,
        ("api-key", "-token", "cookie"),
    ),
    # --password=x, --token x, -auth x style flags
    SecretRule(
        r"(?i)(--?(?:password|passwd|passphrase|pass|token|secret|client[-_]?secret|api[-_]?key"
        r"|access[-_]?key|secret[-_]?key|auth)(?:=|\s+))" + _VALUE,
        r"\1" + _REDACTED,
        ("pass", "token", "secret", "key", "auth"),
    ),
    # mysql -pSECRET (also mysqldump, mysqladmin, mysqlsh); "-p" alone prompts and is kept
    SecretRule(
        r"(\bmysql(?:dump|admin|sh)?\b[^|;&\n]*?\s-p)" + _VALUE, r"\1" + _REDACTED, ("mysql",)
    ),
    SecretRule(r"(\bsshpass\s+-p\s*)" + _VALUE, r"\1" + _REDACTED, ("sshpass",)),
    # NAME=value environment assignments whose name says secret
    SecretRule(
        r"(?i)(?<![?&])\b([A-Z0-9_]*(?:PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY"
        r"|PRIVATE_KEY|CREDENTIALS?)[A-Z0-9_]*=)" + _VALUE,
        r"\1" + _REDACTED,
        ("pass", "secret", "token", "key", "credential"),
    ),
    # password: x and "password": "x" (YAML, JSON, log lines)
    SecretRule(
        r"(?i)(\b(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token"
        r"|client[_-]?secret)\s*:\s*)" + _VALUE,
        r"\1" + _REDACTED,
        ("pass", "secret", "key", "token"),
    ),
    SecretRule(
        r"(?i)(\"(?:password|passwd|secret|token|api[_-]?key|access[_-]?token|auth[_-]?token"
        r"|client[_-]?secret)\"\s*:\s*)\"(?:[^\"\\]|\\.)*\"",
        r"\1" + '"' + _REDACTED + '"',
        ("pass", "secret", "token", "key"),
    ),
    # PEM private key bodies pasted on a command line
    SecretRule(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
        _REDACTED,
        ("private key",),
    ),
)
# (pattern, replacement) pairs, for readers that only want the expressions.
DEFAULT_SECRET_PATTERNS: tuple[tuple[str, str], ...] = tuple(
    (r.pattern, r.replacement) for r in SECRET_RULES
)

_WILDCARDS = re.compile(r"[*?\[]")


class _GlobSet:
    """Exclusion globs with fnmatch semantics; plain shapes are checked without regexes.

    "**/NAME/**" is a path-segment test, "**/LIT*" a substring test, "**/*LIT" and "**/LIT"
    suffix tests, "/LIT*" a prefix test; anything else falls back to one fnmatch regex.
    """

    def __init__(self, globs: Iterable[str]) -> None:
        names: set[str] = set()
        contains: list[str] = []
        endswith: list[str] = []
        star_suffix: list[str] = []
        prefixes: list[str] = []
        rest: list[str] = []
        for g in globs:
            body = g[3:] if g.startswith("**/") else None
            lit = body.rstrip("*") if body is not None else ""
            if body is not None and body and not _WILDCARDS.search(body):
                endswith.append("/" + body)
            elif lit and not _WILDCARDS.search(lit):
                if lit.endswith("/") and lit.count("/") == 1:
                    names.add(lit[:-1])
                else:
                    contains.append("/" + lit)
            elif body and body.startswith("*") and not _WILDCARDS.search(body.lstrip("*") or "*"):
                star_suffix.append(body.lstrip("*"))
            elif g.startswith("/") and g.endswith("*") and not _WILDCARDS.search(g.rstrip("*")):
                prefixes.append(g.rstrip("*"))
            else:
                rest.append(g)
        self._names = frozenset(names)
        self._contains = tuple(contains)
        self._endswith = tuple(endswith)
        self._star_suffix = tuple(star_suffix)
        self._prefixes = tuple(prefixes)
        self._regex = re.compile("|".join(fnmatch.translate(g) for g in rest)) if rest else None

    def matches(self, p: str) -> bool:
        """Whether ``p`` or ``p + "/"`` (the folder itself) matches a glob."""
        q = p + "/"
        # "/NAME/" occurs in q exactly when NAME is a segment of p other than the first.
        if self._names and not self._names.isdisjoint(p.split("/")[1:]):
            return True
        for c in self._contains:
            if c in q:
                return True
        if self._endswith and (p.endswith(self._endswith) or q.endswith(self._endswith)):
            return True
        if self._star_suffix:
            for v in (p, q):
                if v.endswith(self._star_suffix):
                    for s in self._star_suffix:
                        if v.endswith(s) and "/" in v[: len(v) - len(s)]:
                            return True
        if self._prefixes and q.startswith(self._prefixes):
            return True
        return bool(self._regex is not None and (self._regex.match(p) or self._regex.match(q)))


class PrivacyFilter:
    """Applies exclusion globs to paths and redaction patterns to free text."""

    def __init__(
        self,
        exclude_globs: Iterable[str] = (),
        secret_patterns: Iterable[str] = (),
        use_defaults: bool = True,
    ) -> None:
        globs = list(DEFAULT_EXCLUDES if use_defaults else ()) + list(exclude_globs)
        self._globs = [self._normalise_glob(g) for g in globs]
        self._glob_set = _GlobSet(self._globs) if self._globs else None
        rules = list(SECRET_RULES if use_defaults else ())
        rules += [SecretRule(p, _REDACTED) for p in secret_patterns]
        # Text with none of the rules' triggers skips straight past every default rule.
        triggers = sorted({t for r in rules for t in r.triggers}, key=len, reverse=True)
        self._any_trigger = re.compile("|".join(map(re.escape, triggers))) if triggers else None
        self._always = any(not r.triggers for r in rules)
        self._secrets: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = []
        for rule in rules:
            try:
                compiled = re.compile(rule.pattern, re.DOTALL)
            except re.error as exc:
                raise ValueError(f"redaction pattern {rule.pattern!r} is invalid: {exc}") from None
            self._secrets.append((compiled, rule.replacement, rule.triggers))

    @staticmethod
    def _normalise_glob(glob: str) -> str:
        g = os.path.expanduser(glob).replace("\\", "/")
        if not g.startswith(("/", "*")):
            g = "**/" + g
        if g.endswith("/"):  # "folder/" means the folder and everything in it
            g += "**"
        elif g.startswith("/") and not _WILDCARDS.search(g):  # a plain absolute path: its tree too
            g += "/**"
        return g

    def is_excluded(self, path: str | None) -> bool:
        if not path or self._glob_set is None:
            return False
        # "**/x/**" also matches the folder x itself.
        return self._glob_set.matches(path.replace("\\", "/"))

    def redact(self, text: str | None) -> str | None:
        if not text:
            return text
        lowered = text.lower()
        if not self._always and (
            self._any_trigger is None or not self._any_trigger.search(lowered)
        ):
            return text
        for pattern, repl, triggers in self._secrets:
            if triggers and not any(t in lowered for t in triggers):
                continue
            new = pattern.sub(repl, text)
            if new is not text and new != text:
                text = new
                lowered = text.lower()
        return text

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            out = {k: self._redact_value(v) for k, v in value.items()}
            return value if all(out[k] is value[k] for k in value) else out
        if isinstance(value, list):
            items = [self._redact_value(v) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def apply(self, event: Event) -> Event | None:
        """The event as it may be stored, or None if it must not be stored at all."""
        if self.is_excluded(event.path) or self.is_excluded(event.cwd):
            return None
        if event.meta and event.meta.get("incognito") is True:  # private browsing stays private
            return None
        dest = event.dest
        if dest and self.is_excluded(dest):
            # A move into an excluded place is recorded as a delete of the visible source.
            if event.action == "move":
                return self.apply(replace(event, action="delete", dest=None))
            dest = None
        meta = event.meta
        meta_has_text = bool(meta) and any(isinstance(v, (str, dict, list)) for v in meta.values())
        if not self._always and not meta_has_text:
            # One trigger scan over every text field: most events carry no secret at all.
            blob = "\n".join(t for t in (event.cmd, event.path, dest, event.cwd) if t)
            if self._any_trigger is None or not self._any_trigger.search(blob.lower()):
                return event if dest is event.dest else replace(event, dest=dest)
        cmd = self.redact(event.cmd)
        path = self.redact(event.path)
        dest = self.redact(dest)
        cwd = self.redact(event.cwd)
        meta = self._redact_value(meta) if meta_has_text else meta
        if (
            cmd is event.cmd
            and path is event.path
            and dest is event.dest
            and cwd is event.cwd
            and meta is event.meta
        ):
            return event
        return replace(event, cmd=cmd, path=path, dest=dest, cwd=cwd, meta=meta)

    @classmethod
    def from_settings(cls, settings) -> PrivacyFilter:
        return cls(settings.exclude_globs, settings.redact_patterns)
