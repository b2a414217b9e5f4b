"""Environments for child processes with a fault injected from the test side (see
child_faults/sitecustomize.py): the product has no switch for them."""

from __future__ import annotations

import os
from pathlib import Path

CHILD_FAULTS = Path(__file__).resolve().parent / "child_faults"
TRAIN_FAIL_AT_STEP = "SELFLOW_TEST_TRAIN_FAIL_AT_STEP"


def training_fails_at(step: int) -> dict[str, str]:
    """This process's environment, for a child whose adapter training raises at ``step``."""
    path = [str(CHILD_FAULTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), TRAIN_FAIL_AT_STEP: str(step)}
