"""The store owns the tables: no SQL and no ``.execute(`` outside ``selflow_qt/store``."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "selflow_qt"
RAW_SQL = re.compile(r"execute\(|SELECT |INSERT |UPDATE ")


def test_no_raw_sql_outside_the_store():
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if PACKAGE / "store" not in path.parents
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if RAW_SQL.search(line)
    ]
    assert found == []
