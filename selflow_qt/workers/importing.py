"""What a dropped file is (JSONL events, an ActivityWatch export, a shell history) and importing it.

Plain Python; the drop handler and the import worker call it. Importing itself is the collect
package's ``import_file`` (all or nothing: a bad line names the file and line, nothing is written).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from selflow_qt.store.context import StoreContext

JSONL, ACTIVITYWATCH, SHELL = "jsonl", "activitywatch", "shell"
_ZSH_EXT = re.compile(r"^: \d+:\d+;")


def sniff_kind(path: Path) -> str | None:
    """The import kind of ``path`` by its content (None: not an importable file)."""
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return None
    stripped = head.lstrip()
    if stripped.startswith("{") and '"buckets"' in head:
        return ACTIVITYWATCH
    first = next((ln for ln in stripped.splitlines() if ln.strip()), "")
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and {"ts", "source", "action"} <= set(obj):
            return JSONL
    lines = [ln for ln in head.splitlines() if ln.strip()][:20]
    if any(ln.startswith("- cmd:") for ln in lines) or any(_ZSH_EXT.match(ln) for ln in lines):
        return SHELL
    if "history" in path.name.lower() and "\x00" not in head:
        return SHELL
    return None


def import_one(ctx: StoreContext, path: Path, kind: str, progress=None):
    """Import ``path`` as ``kind`` (all or nothing); returns the importer's ImportReport."""
    from selflow_qt.collect.importers import import_file

    return import_file(ctx, kind, path, progress=progress)
