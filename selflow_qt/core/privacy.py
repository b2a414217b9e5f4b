"""Privacy rules: excluded paths are dropped and secrets redacted before anything is written."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import replace

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
    "**/Library/Application Support/Google/Chrome/**",
    "**/AppData/Local/Google/Chrome/**",
    "**/.ssh/**",
    "**/.gnupg/**",
    "**/.local/share/keyrings/**",
    "**/Library/Keychains/**",
    "**/.password-store/**",
    "**/*.pem",
    "**/*.key",
    "**/.env",
    "**/.env.*",
    "**/.local/share/selflow/**",
    "**/selflow.db*",
)

_REDACTED = "[REDACTED]"
# (pattern, replacement) pairs; each replacement keeps the non-secret context.
DEFAULT_SECRET_PATTERNS: tuple[tuple[str, str], ...] = (
    # URLs with credentials: scheme://user:pass@host
    (r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@", r"\g<pre>" + _REDACTED + "@"),
    # AWS access key ids and secret keys
    (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", _REDACTED),
    (r"(?i)(aws_secret_access_key\s*[=:]\s*)\S+", r"\1" + _REDACTED),
    # GitHub, GitLab, Slack, OpenAI/Anthropic-style, Google API keys, JWTs
    (r"\bgh[pousr]_[A-Za-z0-9]{20,}\b", _REDACTED),
    (r"\bgithub_pat_[A-Za-z0-9_]{20,}\b", _REDACTED),
    (r"\bglpat-[A-Za-z0-9_-]{20,}\b", _REDACTED),
    (r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", _REDACTED),
    (r"\bsk-[A-Za-z0-9_-]{20,}\b", _REDACTED),
    (r"\bAIza[0-9A-Za-z_-]{35}\b", _REDACTED),
    (r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b", _REDACTED),
    # Authorization headers
    (r"(?i)(authorization:\s*(?:bearer|basic|token)\s+)\S+", r"\1" + _REDACTED),
    # --password=x, --token x, -p x style flags (mysql -pSECRET too)
    (
        r"(?i)(--?(?:password|passwd|pass|token|secret|api[-_]?key|access[-_]?key|auth)(?:=|\s+))(\"[^\"]*\"|'[^']*'|\S+)",
        r"\1" + _REDACTED,
    ),
    (r"(?<=\bmysql\s)(.*?)-p(?!\s)\S+", r"\1-p" + _REDACTED),
    # NAME=value environment assignments whose name says secret
    (
        r"(?i)\b([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=)(\"[^\"]*\"|'[^']*'|\S+)",
        r"\1" + _REDACTED,
    ),
    # sshpass -p secret, htpasswd -b file user pass is too ambiguous: leave it
    (r"(\bsshpass\s+-p\s*)\S+", r"\1" + _REDACTED),
    # PEM private key bodies pasted on a command line
    (r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", _REDACTED),
)


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
        self._glob_re = (
            re.compile("|".join(fnmatch.translate(g) for g in self._globs)) if globs else None
        )
        pairs = list(DEFAULT_SECRET_PATTERNS if use_defaults else ())
        pairs += [(p, _REDACTED) for p in secret_patterns]
        self._secrets = [(re.compile(p, re.DOTALL), r) for p, r in pairs]

    @staticmethod
    def _normalise_glob(glob: str) -> str:
        g = os.path.expanduser(glob).replace("\\", "/")
        if not g.startswith(("/", "*")):
            g = "**/" + g
        return g

    def is_excluded(self, path: str | None) -> bool:
        if not path or self._glob_re is None:
            return False
        p = path.replace("\\", "/")
        # "**/x/**" should also match the folder x itself, so test p and p + "/".
        return bool(self._glob_re.match(p) or self._glob_re.match(p + "/"))

    def redact(self, text: str | None) -> str | None:
        if not text:
            return text
        for pattern, repl in self._secrets:
            text = pattern.sub(repl, text)
        return text

    def apply(self, event: Event) -> Event | None:
        """The event as it may be stored, or None if it must not be stored at all."""
        if self.is_excluded(event.path) or self.is_excluded(event.cwd):
            return None
        dest = event.dest
        if dest and self.is_excluded(dest):
            # A move into an excluded place is recorded as a delete of the visible source.
            if event.action == "move":
                return replace(event, action="delete", dest=None)
            dest = None
        cmd = self.redact(event.cmd)
        path = self.redact(event.path)
        meta = event.meta
        if meta:
            meta = {k: self.redact(v) if isinstance(v, str) else v for k, v in meta.items()}
        if cmd is event.cmd and path is event.path and dest is event.dest and meta is event.meta:
            return event
        return replace(event, cmd=cmd, path=path, dest=dest, meta=meta)

    @classmethod
    def from_settings(cls, settings) -> PrivacyFilter:
        return cls(settings.exclude_globs, settings.redact_patterns)
