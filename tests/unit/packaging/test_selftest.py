"""`selflow --self-test` reporting, and the bundle's entry point starting `-m` children.

The full self-test (minutes: analysis and LoRA training) runs in `make test-bundle`; these tests
cover its contract with fast stand-in steps, which is what they are about.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
from pathlib import Path

import pytest

from selflow_qt.cli import main, selftest

ROOT = Path(__file__).resolve().parents[3]


def _entry():
    spec = importlib.util.spec_from_file_location(
        "selflow_entry", ROOT / "packaging" / "selflow_entry.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_step_passing_prints_pass_lines_and_exits_zero(monkeypatch, tmp_path) -> None:
    seen = {}

    def fine(run: selftest.SelfTestRun) -> str:
        seen["data_dir"] = os.environ["SELFLOW_DATA_DIR"]
        seen["qpa"] = os.environ["QT_QPA_PLATFORM"]
        return "ok"

    monkeypatch.setattr(selftest, "STEPS", (("one", fine), ("two", fine)))
    out = io.StringIO()
    assert selftest.run_self_test(tmp_path / "new", out=out) == 0
    lines = out.getvalue().splitlines()
    assert [ln.split()[:2] for ln in lines if ln.startswith(("PASS", "FAIL"))] == [
        ["PASS", "one"],
        ["PASS", "two"],
    ]
    assert seen == {"data_dir": str((tmp_path / "new").resolve()), "qpa": "offscreen"}
    assert lines[-1].startswith("self-test: 2/2 passed")


def test_a_failing_step_is_reported_and_later_steps_still_run(monkeypatch, tmp_path) -> None:
    def broken(run: selftest.SelfTestRun) -> str:
        raise RuntimeError("no model here")

    ran = []
    monkeypatch.setattr(
        selftest, "STEPS", (("broken", broken), ("after", lambda run: ran.append(1) or "ok"))
    )
    out = io.StringIO()
    assert selftest.run_self_test(tmp_path / "d", out=out) == 1
    text = out.getvalue()
    assert "FAIL broken" in text and "RuntimeError: no model here" in text
    assert "PASS after" in text and ran == [1]
    assert "1/2 passed" in text


def test_a_temporary_folder_is_removed_after_a_pass(monkeypatch) -> None:
    folders = []
    monkeypatch.setattr(
        selftest, "STEPS", (("one", lambda run: folders.append(run.data_dir) or "ok"),)
    )
    assert selftest.run_self_test(out=io.StringIO()) == 0
    assert folders and not folders[0].exists()


def test_it_refuses_a_data_folder_that_holds_data(tmp_path, capsys) -> None:
    (tmp_path / "selflow.db").write_text("real data")
    assert main(["--data-dir", str(tmp_path), "--self-test"]) == 2
    assert "not empty" in capsys.readouterr().out
    assert (tmp_path / "selflow.db").read_text() == "real data"


def test_environment_is_restored_afterwards(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.setattr(selftest, "STEPS", (("one", lambda run: "ok"),))
    selftest.run_self_test(tmp_path / "d", out=io.StringIO())
    assert os.environ["QT_QPA_PLATFORM"] == "xcb"
    assert "HF_HOME" not in os.environ


def test_the_entry_point_runs_a_module_child_like_python_dash_m(tmp_path, monkeypatch) -> None:
    (tmp_path / "child_probe.py").write_text(
        "import sys\n"
        "if __name__ == '__main__':\n"
        "    open(sys.argv[1], 'w').write(' '.join(sys.argv[2:]))\n"
        "    sys.exit(7)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    out = tmp_path / "out.txt"
    entry = _entry()
    code = entry._run_module_child(["selflow", "-u", "-m", "child_probe", str(out), "a", "b"])
    assert code == 7
    assert out.read_text() == "a b"


@pytest.mark.parametrize("argv", [["selflow"], ["selflow", "--self-test"], ["selflow", "-m"]])
def test_the_entry_point_leaves_other_command_lines_to_the_cli(argv) -> None:
    assert _entry()._run_module_child(argv) is None
