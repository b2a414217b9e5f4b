"""Can this machine show the desktop app? Imported without Qt, so the CLI can ask first."""

from __future__ import annotations


def qt_unavailable() -> str | None:
    """Why Qt cannot start here (missing or broken: no libEGL, ...), or None when it can."""
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None
