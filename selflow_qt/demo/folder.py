"""The demo's own data folder, marked so that live capture never mixes into simulated data."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import platformdirs

DEMO_APP_NAME = "selflow-demo"
MARKER = "DEMO.json"


def default_demo_dir() -> Path:
    """Where `selflow demo` writes when no --data-dir is given: next to, not in, the real data."""
    return Path(platformdirs.user_data_dir(DEMO_APP_NAME))


def mark_demo(data_dir: str | os.PathLike, **info) -> None:
    """Mark ``data_dir`` as holding simulated data (the app then captures nothing live there)."""
    path = Path(data_dir) / MARKER
    path.write_text(json.dumps({"created_at": time.time(), **info}, indent=2), encoding="utf-8")


def is_demo_dir(data_dir: str | os.PathLike) -> bool:
    return (Path(data_dir) / MARKER).exists()
