"""Paths as the analysis reads them: the home folder as ``~`` and a path's folder prefixes.
Plain Python (no numpy), so `selflow status`'s trigger check can use them cheaply."""

from __future__ import annotations

import re

HOME_RE = re.compile(r"^(/home/[^/]+|/Users/[^/]+|/root|[A-Za-z]:\\Users\\[^\\]+)(?=[/\\]|$)")


def home_relative(path: str) -> str:
    """``/home/alice/src/x`` -> ``~/src/x`` (the user's own name never becomes a term)."""
    return HOME_RE.sub("~", path, count=1)


def folder_prefixes(path: str, max_depth: int = 4) -> list[str]:
    """Folder prefixes of a path's parent: ``~/src/app/x.py`` -> ``~``, ``~/src``, ``~/src/app``."""
    parts = [p for p in home_relative(path).replace("\\", "/").split("/")[:-1] if p != ""]
    if path.startswith("/") and (not parts or parts[0] != "~"):
        parts = ["/" + parts[0]] + parts[1:] if parts else ["/"]
    out, cur = [], ""
    for p in parts[: max_depth + 1]:
        cur = p if not cur else f"{cur}/{p}"
        out.append(cur)
    return out
