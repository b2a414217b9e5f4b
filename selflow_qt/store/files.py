"""Private files: everything SelFlow writes under its data folder is 0600, every folder 0700."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def secure_tree(root: Path) -> int:
    """Make ``root`` and everything under it private (links are not followed); returns how
    many modes were changed. Missing paths and files that vanish meanwhile are skipped."""
    root = Path(root)
    changed = 0
    if not root.exists() or root.is_symlink():
        return 0
    stack = [root]
    while stack:
        folder = stack.pop()
        changed += _chmod(folder, PRIVATE_DIR)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_symlink():
                    continue
                if e.is_dir():
                    stack.append(Path(e.path))
                else:
                    changed += _chmod(Path(e.path), PRIVATE_FILE)
            except OSError:
                continue
    return changed


def _chmod(path: Path, mode: int) -> int:
    try:
        if (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
            return 1
    except OSError:
        pass
    return 0


def private_mkdir(path: Path) -> Path:
    """``mkdir -p`` with every created folder (and ``path`` itself) at 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(path, PRIVATE_DIR)
    return path


def open_private(path: Path, mode: str = "w"):
    """Open a new file for writing with 0600 from the start (no window where it is 0644)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE)
    os.chmod(path, PRIVATE_FILE)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8")
