"""Helpers shared by SelFlow's PyInstaller hooks (not a hook: its name has no ``hook-`` prefix)."""

from __future__ import annotations

import runpy
from pathlib import Path

from PyInstaller.utils.hooks import copy_metadata, logger


def contrib_hook(name: str) -> dict:
    """Run pyinstaller-hooks-contrib's hook for ``name`` and return its globals (empty if none).

    A hook in our hookspath replaces the contrib hook of the same name, so ours start from it.
    """
    import _pyinstaller_hooks_contrib.stdhooks as stdhooks

    path = Path(stdhooks.__file__).parent / f"hook-{name}.py"
    if not path.exists():
        return {}
    return runpy.run_path(str(path), run_name=f"contrib-hook-{name}")


def metadata_of(*dists: str) -> list[tuple[str, str]]:
    """``copy_metadata`` for each installed distribution; missing ones are skipped with a note."""
    datas: list[tuple[str, str]] = []
    for dist in dists:
        try:
            datas += copy_metadata(dist)
        except Exception:  # noqa: BLE001 - optional distributions may be absent
            logger.info("selflow hooks: no metadata for %s (not installed)", dist)
    return datas
