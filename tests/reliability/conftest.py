"""The reliability battery: real `selflow` processes, real SQLite files, a real tmpfs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from programs import require_program

sys.path.insert(0, str(Path(__file__).parent))  # reliability_helpers


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs (root only), else a 3 MB ext2 loop file; skipped where neither works."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a size-limited filesystem needs root (mount -t tmpfs)")
    mount, umount = require_program("mount"), require_program("umount")
    ok = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
    )
    if ok.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {ok.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run([umount, "-l", str(mnt)], capture_output=True)
