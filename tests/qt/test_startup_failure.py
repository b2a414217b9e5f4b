"""The desktop app that cannot use its data folder says why in a dialog and on stderr, in the
words the CLI uses."""

from __future__ import annotations

import argparse

from PySide6.QtWidgets import QMessageBox

from selflow_qt.cli import main as selflow
from selflow_qt.ui import app as app_mod


def test_a_data_folder_that_is_a_file_is_shown_in_a_dialog(qtbot, tmp_path, capsys, monkeypatch):
    f = tmp_path / "data"
    f.write_text("not a folder")
    shown: list[tuple[str, str]] = []

    def exec_(box: QMessageBox) -> int:  # the dialog is real; only its wait for a click is not
        shown.append((box.windowTitle(), box.text()))
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    rc = app_mod.run_app(argparse.Namespace(data_dir=str(f)))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert len(shown) == 1 and shown[0][0] == "SelFlow cannot start"
    assert err[-1] == "selflow: " + shown[0][1][:1].lower() + shown[0][1][1:]
    selflow(["--data-dir", str(f), "status"])
    assert capsys.readouterr().err.strip() == err[-1]  # one wording for the CLI and the app
