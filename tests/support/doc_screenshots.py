"""Tests refresh the screenshots in docs/ only when asked, so a test run leaves the checkout clean."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def update_doc_screenshot(shot: Path, name: str) -> None:
    """Copy a test's screenshot to docs/screenshots/NAME with SELFLOW_UPDATE_SCREENSHOTS=1."""
    if os.environ.get("SELFLOW_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS / name)
