"""Test hooks live in tests/, not in the product: the shipped package reads none of their switches.

Tests inject what they need from their side (tests/support/app_hooks.py, plugged in by
tests/support/run_app.py; a monkeypatched function in the test's own process).
"""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "selflow_qt"


@pytest.mark.parametrize(
    "switch", ["SELFLOW_DUMP_TRAY", "SELFLOW_TEST_HOOKS", "SELFLOW_TRAIN_FAIL_AT_STEP"]
)
def test_the_product_reads_no_test_switch(switch):
    found = [
        str(path.relative_to(PACKAGE.parent))
        for path in sorted(PACKAGE.rglob("*.py"))
        if switch in path.read_text(encoding="utf-8")
    ]
    assert found == []
