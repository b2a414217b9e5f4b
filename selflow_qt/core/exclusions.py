"""Which paths are never recorded: the default exclusions and the glob matcher behind them."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable

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

WILDCARDS = re.compile(r"[*?\[]")


class GlobSet:
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
            if body is not None and body and not WILDCARDS.search(body):
                endswith.append("/" + body)
            elif lit and not WILDCARDS.search(lit):
                if lit.endswith("/") and lit.count("/") == 1:
                    names.add(lit[:-1])
                else:
                    contains.append("/" + lit)
            elif body and body.startswith("*") and not WILDCARDS.search(body.lstrip("*") or "*"):
                star_suffix.append(body.lstrip("*"))
            elif g.startswith("/") and g.endswith("*") and not WILDCARDS.search(g.rstrip("*")):
                prefixes.append(g.rstrip("*"))
            else:
                rest.append(g)
        self.names = frozenset(names)
        self.contains = tuple(contains)
        self.longest_contains = max(map(len, contains), default=0)
        self.endswith = tuple(endswith)
        self.star_suffix = tuple(star_suffix)
        self.prefixes = tuple(prefixes)
        self.regex = re.compile("|".join(fnmatch.translate(g) for g in rest)) if rest else None

    def matches(self, p: str, folder: str | None = None) -> bool:
        """Whether ``p`` or ``p + "/"`` (the folder itself) matches a glob.

        ``folder``: ``p``'s parent, already known not to match; then only the part of ``p``
        after it needs the segment and substring tests (the answer is the same).
        """
        q = p + "/"
        if folder is None:
            # "/NAME/" occurs in q exactly when NAME is a segment of p other than the first.
            if self.names and not self.names.isdisjoint(p.split("/")[1:]):
                return True
            window = q
        else:
            if p[len(folder) + 1 :] in self.names:
                return True
            window = q[max(0, len(folder) + 1 - self.longest_contains) :]
        for c in self.contains:
            if c in window:
                return True
        if self.endswith and (p.endswith(self.endswith) or q.endswith(self.endswith)):
            return True
        if self.star_suffix:
            for v in (p, q):
                if v.endswith(self.star_suffix):
                    for s in self.star_suffix:
                        if v.endswith(s) and "/" in v[: len(v) - len(s)]:
                            return True
        if self.prefixes and q.startswith(self.prefixes):
            return True
        return bool(self.regex is not None and (self.regex.match(p) or self.regex.match(q)))

    def name_literals(self) -> set[str] | None:
        """The last literal piece of every glob that a path's name alone can be tested against
        (a name holding none of them cannot match, given its folder does not); None when a
        glob cannot be cleared that way (a regex glob, or one ending in "/")."""
        if self.regex is not None:
            return None
        literals: set[str] = set(self.names)
        for lit in (*self.contains, *self.endswith, *self.star_suffix):
            last = [part for part in lit.split("/") if part]
            if not last:
                return None
            literals.add(last[-1])
        return literals

    def prefix_below(self, folder: str) -> bool:
        """Whether an absolute-prefix glob starts inside ``folder`` (its entries need a full test)."""
        return any(p.startswith(folder + "/") for p in self.prefixes)


def normalise_glob(glob: str) -> str:
    """A user's glob in the form GlobSet takes: "~" expanded, relative globs match anywhere,
    "folder/" and a plain absolute path mean the folder and everything in it."""
    g = os.path.expanduser(glob).replace("\\", "/")
    if not g.startswith(("/", "*")):
        g = "**/" + g
    if g.endswith("/"):
        g += "**"
    elif g.startswith("/") and not WILDCARDS.search(g):
        g += "/**"
    return g
