"""Privacy rules: excluded paths are dropped and secrets redacted before anything is written.

Which paths are excluded is core.exclusions; what a secret looks like is core.secret_rules and
core.secret_scan; this module applies both to every event, with the caches that keep it fast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from selflow_qt.core.event import Event
from selflow_qt.core.exclusions import DEFAULT_EXCLUDES, GlobSet, normalise_glob
from selflow_qt.core.secret_gate import ZERO_DIGITS, gate_pattern, trie_pattern
from selflow_qt.core.secret_rules import (
    LONG_TOKEN,
    REDACTED,
    SECRET_NAME,
    SHAPE_RULES,
    TRIGGERED_RULES,
    SecretRule,
    redact_private_keys,
)
from selflow_qt.core.secret_scan import redact_found

_REDACTED = REDACTED
# Every default rule, for readers that want to list them (shapes run on long tokens only).
SECRET_RULES: tuple[SecretRule, ...] = TRIGGERED_RULES + SHAPE_RULES
# (pattern, replacement) pairs of the rules whose replacement is a plain string.
DEFAULT_SECRET_PATTERNS: tuple[tuple[str, str], ...] = tuple(
    (r.pattern, r.replacement) for r in SECRET_RULES if isinstance(r.replacement, str)
)
MAX_META_DEPTH = 32  # deeper meta is replaced whole (inputs are limited to less, see core.event)
_EXCLUDED_CACHE_MAX = 8192


class PrivacyFilter:
    """Applies exclusion globs to paths and redaction patterns to every text field."""

    def __init__(
        self,
        exclude_globs: Iterable[str] = (),
        secret_patterns: Iterable[str] = (),
        use_defaults: bool = True,
    ) -> None:
        globs = list(DEFAULT_EXCLUDES if use_defaults else ()) + list(exclude_globs)
        self._globs = [normalise_glob(g) for g in globs]
        self._glob_set = GlobSet(self._globs) if self._globs else None
        self._excluded_cache: dict[str, bool] = {}
        self._folder_dirty: dict[str, bool] = {}  # folder -> needs_redaction(folder)
        self._clean_keys: set = set()  # meta keys seen holding no secret
        self._defaults = use_defaults
        rules = list(TRIGGERED_RULES if use_defaults else ())
        self._secrets = [self._compile(r) for r in rules]
        self._shapes = [self._compile(r) for r in (SHAPE_RULES if use_defaults else ())]
        self._user = [self._compile(SecretRule(p, _REDACTED)) for p in secret_patterns]
        # Text with none of the rules' triggers skips straight past every triggered rule.
        triggers = sorted({t for r in rules for t in r.triggers}, key=len, reverse=True)
        self._any_trigger = re.compile(trie_pattern(triggers)) if triggers else None
        # The one cheap scan deciding whether text needs redaction at all: any rule's trigger,
        # a long token (shape rules) or anything the scored scan could judge (secret_gate.HINT).
        self._gate = re.compile(gate_pattern(triggers)) if use_defaults else None
        self._name_gate = self._make_name_gate(triggers)
        self._names: dict[bytes, bool] = {}  # a file name, digits as 0 -> whether it may matter
        self._slow_paths: dict[str, int] = {}  # paths whose name it may: their _path_state
        self._clean_text: set[str] = set()  # texts seen needing no redaction
        self._folders: dict[str, tuple[bool, bool, bool]] = {}  # folder -> excluded, dirty, near

    @staticmethod
    def _compile(rule: SecretRule) -> tuple[re.Pattern[str], Any, tuple[str, ...]]:
        try:
            compiled = re.compile(rule.pattern, re.DOTALL)
        except re.error as exc:
            raise ValueError(f"redaction pattern {rule.pattern!r} is invalid: {exc}") from None
        return compiled, rule.replacement, rule.triggers

    def is_excluded(self, path: str | None) -> bool:
        if not path or self._glob_set is None:
            return False
        cache = self._excluded_cache
        hit = cache.get(path)
        if hit is not None:
            return hit
        p = path.replace("\\", "/") if "\\" in path else path
        folder = p.rpartition("/")[0]
        # Paths share folders: a folder's own answer is cached, and when it does not match
        # only the name after it is tested. "**/x/**" also matches the folder x itself.
        clean_folder = False
        if folder:
            clean_folder = cache.get(folder)
            if clean_folder is None:
                clean_folder = not self._glob_set.matches(folder)
                cache[folder] = not clean_folder
            else:
                clean_folder = not clean_folder
        out = self._glob_set.matches(p, folder if clean_folder else None)
        if len(cache) >= _EXCLUDED_CACHE_MAX:
            cache.clear()
        cache[path] = out
        return out

    def _path_needs_redaction(self, path: str | None) -> bool:
        """needs_redaction for a path, its folder's answer cached (paths share folders)."""
        if not path:
            return False
        folder, _, name = path.rpartition("/")
        if not folder or "'" in path or '"' in path:
            return self.needs_redaction(path)
        cache = self._folder_dirty
        hit = cache.get(folder)
        if hit is None:
            hit = self.needs_redaction(folder)
            if len(cache) >= _EXCLUDED_CACHE_MAX:
                cache.clear()
            cache[folder] = hit
        # Two characters of the folder go with the name: "://" is the one trigger with a '/'.
        return hit or self.needs_redaction(path[max(0, len(folder) - 2) :])

    def needs_redaction(self, text: str) -> bool:
        """Whether any rule could change ``text`` (a cheap scan; False means redact is a no-op)."""
        if self._user:
            return True
        return self._gate is not None and self._gate.search(text.lower()) is not None

    def _text_dirty(self, text: str) -> bool:
        """needs_redaction, remembering texts that need none (commands and apps repeat)."""
        clean = self._clean_text
        if text in clean:
            return False
        if self.needs_redaction(text):
            return True
        if len(clean) >= _EXCLUDED_CACHE_MAX:
            clean.clear()
        clean.add(text)
        return False

    def _make_name_gate(self, triggers: list[str]) -> re.Pattern[bytes] | None:
        """A regex a "/name" must match (lower-cased, digits as 0) before exclusion globs (of a
        folder known not to be excluded) or redaction could concern it: every glob's last
        literal piece, and the redaction gate. None: no shortcut (a user pattern, or a glob
        with wildcards inside it)."""
        gs = self._glob_set
        literals = set() if gs is None else gs.name_literals()
        if self._user or literals is None:
            return None
        literals = {lit.lower() for lit in literals}
        if self._defaults:
            pattern = gate_pattern([*literals, *triggers], zero_digits=True)
        else:
            pattern = trie_pattern(
                {lit.encode().translate(ZERO_DIGITS).decode() for lit in literals}
            )
        return re.compile(pattern.encode())

    _CLEAN, _DIRTY, _EXCLUDED = 0, 1, 2

    def _path_state(self, path: str) -> int:
        """Whether a path is excluded, needs redaction, or neither; folders' answers cached."""
        folder, _, name = path.rpartition("/")
        if not folder or "\\" in path or "'" in path or '"' in path:
            return self._path_state_slow(path)
        info = self._folders.get(folder)
        if info is None:
            excluded = self._glob_set is not None and self._glob_set.matches(folder)
            near = self._glob_set is not None and self._glob_set.prefix_below(folder)
            info = (excluded, self.needs_redaction(folder), near)
            if len(self._folders) >= _EXCLUDED_CACHE_MAX:
                self._folders.clear()
            self._folders[folder] = info
        if info[0] or info[2] or self._name_gate is None or folder[-1] == ":":
            return self._path_state_slow(path)
        # Names repeat in shape (file1.txt, file2.txt): the gate's answer is kept per shape.
        if not name.isascii():
            return self._path_state_slow(path)
        key = name.encode().translate(ZERO_DIGITS)  # bytes: translate is a table lookup
        names = self._names
        hit = names.get(key)
        if hit is None:
            hit = self._name_gate.search(key) is not None
            if len(names) >= _EXCLUDED_CACHE_MAX:
                names.clear()
            names[key] = hit
        if hit:  # a name the gate cannot clear (a working folder is asked about often)
            slow = self._slow_paths
            state = slow.get(path)
            if state is None:
                state = self._path_state_slow(path)
                if len(slow) >= _EXCLUDED_CACHE_MAX:
                    slow.clear()
                slow[path] = state
            return state
        return self._DIRTY if info[1] else self._CLEAN

    def _path_state_slow(self, path: str) -> int:
        if self.is_excluded(path):
            return self._EXCLUDED
        return self._DIRTY if self._path_needs_redaction(path) else self._CLEAN

    def redact(self, text: str | None) -> str | None:
        if not text:
            return text
        lowered = text.lower()
        if self._defaults:
            if "private key" in lowered or "putty-user-key" in lowered:
                text = redact_private_keys(text)
                lowered = text.lower()
            if self._any_trigger is not None and self._any_trigger.search(lowered):
                for pattern, repl, triggers in self._secrets:
                    if triggers and not any(t in lowered for t in triggers):
                        continue
                    new = pattern.sub(repl, text)
                    if new != text:
                        text = new
                        lowered = text.lower()
            if LONG_TOKEN.search(text):
                for pattern, repl, _ in self._shapes:
                    text = pattern.sub(repl, text)
            text = redact_found(text)  # what no rule names, judged by shape and surroundings
        for pattern, repl, _ in self._user:
            text = pattern.sub(repl, text)
        return text

    def _redact_value(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if depth >= MAX_META_DEPTH and isinstance(value, (dict, list)):
            return _REDACTED
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                key = self.redact(k) if isinstance(k, str) else k
                if isinstance(v, str) and v and isinstance(k, str) and SECRET_NAME.search(k):
                    out[key] = _REDACTED  # {"password": "x"}: the name says what the value is
                else:
                    out[key] = self._redact_value(v, depth + 1)
            same = len(out) == len(value) and all(k in value and out[k] is value[k] for k in out)
            return value if same else out
        if isinstance(value, list):
            items = [self._redact_value(v, depth + 1) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    def apply(self, event: Event) -> Event | None:
        """The event as it may be stored, or None if it must not be stored at all."""
        path, cwd, dest, meta = event.path, event.cwd, event.dest, event.meta
        dirty = False
        if path:
            state = self._path_state(path)
            if state == 2:
                return None
            dirty = state == 1
        if cwd:
            state = self._path_state(cwd)
            if state == 2:
                return None
            dirty = dirty or state == 1
        if meta and meta.get("incognito") is True:  # private browsing stays private
            return None
        if dest:
            state = self._path_state(dest)
            if state == 2:
                # A move into an excluded place is recorded as a delete of the visible source.
                if event.action == "move":
                    return self.apply(replace(event, action="delete", dest=None))
                dest = None
            dirty = dirty or state == 1
        # One cheap scan over every other text field, meta keys and meta text: most events
        # carry no secret. (Every secret-naming meta key holds a trigger, so keys are covered.)
        if not dirty:
            cmd, app = event.cmd, event.app
            dirty = bool((cmd and self._text_dirty(cmd)) or (app and self._text_dirty(app)))
            if meta and not dirty:
                known = self._clean_keys
                for k, v in meta.items():
                    if v.__class__ is str:
                        if v and self._text_dirty(v):
                            dirty = True
                            break
                    elif isinstance(v, (dict, list)):
                        dirty = True
                        break
                    if k not in known:
                        if self.needs_redaction(str(k)):
                            dirty = True
                            break
                        if len(known) < _EXCLUDED_CACHE_MAX:
                            known.add(k)
            if not dirty:
                return event if dest is event.dest else replace(event, dest=dest)
        cmd = self.redact(event.cmd)
        path = self.redact(event.path)
        dest = self.redact(dest)
        cwd = self.redact(event.cwd)
        app = self.redact(event.app)
        meta = self._redact_value(meta) if meta else meta
        if (
            cmd is event.cmd
            and path is event.path
            and dest is event.dest
            and cwd is event.cwd
            and app is event.app
            and meta is event.meta
        ):
            return event
        return replace(event, cmd=cmd, path=path, dest=dest, cwd=cwd, app=app, meta=meta)

    @classmethod
    def from_settings(cls, settings, data_dir: str | os.PathLike | None = None) -> PrivacyFilter:
        """The user's rules; ``data_dir`` (SelFlow's own files) is excluded too when given."""
        extra = [os.path.abspath(os.fspath(data_dir)) + "/"] if data_dir is not None else []
        return cls([*settings.exclude_globs, *extra], settings.redact_patterns)


_DEFAULT_FILTER: PrivacyFilter | None = None


def redact_text(text: str | None) -> str | None:
    """``text`` with every default secret rule applied: for anything written outside the event
    pipeline (agent metadata, training files, logs, status details)."""
    global _DEFAULT_FILTER
    if _DEFAULT_FILTER is None:
        _DEFAULT_FILTER = PrivacyFilter(use_defaults=True)
    return _DEFAULT_FILTER.redact(text)
