"""The welcome's shell-hook line and 'Add it for me': the user's shell, its rc file, once."""

from __future__ import annotations

import subprocess

from programs import require_program

from selflow_qt.collect import shell_rc


def test_the_line_for_each_shell():
    assert shell_rc.rc_line("zsh") == 'eval "$(selflow shell-init zsh)"'
    assert shell_rc.rc_line("bash") == 'eval "$(selflow shell-init bash)"'
    assert shell_rc.rc_line("fish") == "selflow shell-init fish | source"
    spaced = shell_rc.rc_line("zsh", ["selflow", "--data-dir", "/tmp/my data"])
    assert spaced == "eval \"$(selflow --data-dir '/tmp/my data' shell-init zsh)\""


def test_the_user_shell_and_its_rc_file(tmp_path):
    assert shell_rc.user_shell({"SHELL": "/usr/bin/zsh"}) == "zsh"
    assert shell_rc.user_shell({"SHELL": "/bin/tcsh"}) is None
    assert shell_rc.user_shell({}) is None
    assert shell_rc.rc_file("zsh", tmp_path, {}) == tmp_path / ".zshrc"
    assert shell_rc.rc_file("zsh", tmp_path, {"ZDOTDIR": str(tmp_path / "z")}) == (
        tmp_path / "z" / ".zshrc"
    )
    assert shell_rc.rc_file("fish", tmp_path, {}) == tmp_path / ".config/fish/config.fish"


def test_adding_is_idempotent_and_keeps_what_was_there(tmp_path):
    rc = tmp_path / ".zshrc"
    rc.write_text("alias ll='ls -l'")  # no final newline
    line = shell_rc.rc_line("zsh")
    assert shell_rc.add_to_rc(rc, line) is True
    assert shell_rc.add_to_rc(rc, line) is False
    text = rc.read_text()
    assert text.startswith("alias ll='ls -l'\n") and text.count(line) == 1
    fish = tmp_path / ".config/fish/config.fish"
    assert shell_rc.add_to_rc(fish, shell_rc.rc_line("fish")) and fish.exists()


def test_bash_reads_the_added_line(tmp_path):
    """The line is valid shell: bash sources the rc file with a stand-in selflow on PATH."""
    bash = require_program("bash")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "selflow"
    fake.write_text("#!/bin/sh\necho 'SELFLOW_HOOKED=1'\n")
    fake.chmod(0o755)
    rc = tmp_path / ".bashrc"
    shell_rc.add_to_rc(rc, shell_rc.rc_line("bash"))
    out = subprocess.run(
        [bash, "--norc", "-c", f"source {rc}; echo $SELFLOW_HOOKED"],
        capture_output=True, text=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, timeout=30,
    )  # fmt: skip
    assert out.stdout.strip() == "1", out.stderr
