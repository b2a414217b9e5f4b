"""Why the data folder cannot be used, in one line: the CLI prints it, the desktop app shows it.

A data folder that is a file, sits under a file, or cannot be written (read-only, someone
else's) stops every command at start; the words are the same whichever command found it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

HOW_TO_CHOOSE = "choose another with --data-dir or SELFLOW_DATA_DIR"


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def _blocking_file(folder: Path) -> Path | None:
    """The file that stands where the folder (or one of its parents) should be."""
    for p in (folder, *folder.parents):
        if p.exists():
            return p if not p.is_dir() else None
    return None


def folder_problem(folder: Path, exc: OSError | None = None) -> str | None:
    """Why ``folder`` cannot be SelFlow's data folder (None: the error is not about it)."""
    folder = Path(folder).expanduser().resolve()
    filename = getattr(exc, "filename", None) if exc is not None else None
    if exc is not None and filename is not None and not _under(Path(filename), folder):
        if not _under(folder, Path(filename).resolve()):
            return None  # about some other file (an import's source, an export's target)
    blocker = _blocking_file(folder)
    if blocker is not None:
        what = "is a file" if blocker == folder else f"is inside {blocker}, which is a file"
        return (
            f"the data folder {folder} {what}, not a folder: move the file away, or {HOW_TO_CHOOSE}"
        )
    code = getattr(exc, "errno", None)
    nearest = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    if code == errno.EROFS or (exc is None and _read_only_fs(nearest)):
        return (
            f"the data folder {folder} is on a read-only file system: {HOW_TO_CHOOSE.capitalize()}"
        )
    if (
        isinstance(exc, PermissionError)
        or code in (errno.EACCES, errno.EPERM)
        or (exc is None and not os.access(nearest, os.W_OK | os.X_OK))
    ):
        return (
            f"cannot write in the data folder {folder} (it is read-only for you): make it "
            f"writable, or {HOW_TO_CHOOSE}"
        )
    if exc is not None:
        return f"the data folder {folder} cannot be used ({exc.strerror or exc}): {HOW_TO_CHOOSE}"
    return None


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
