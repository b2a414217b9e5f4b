"""The one line that loads SelFlow's shell hook, and adding it to the user's rc file on request.

bash and zsh: ``eval "$(selflow shell-init zsh)"`` at the end of ~/.bashrc or ~/.zshrc; fish:
``selflow shell-init fish | source`` in ~/.config/fish/config.fish. Adding is idempotent: a file
that already holds the line is left as it is.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
COMMENT = "# SelFlow: record each command as it finishes and suggest the next one"


def user_shell(env: Mapping[str, str] = os.environ) -> str | None:
    """bash, zsh or fish from $SHELL; None for any other shell (or none)."""
    name = Path(env.get("SHELL", "")).name
    return name if name in SHELLS else None


def selflow_command(data_dir: str | os.PathLike | None = None) -> list[str]:
    """How the rc file starts ``selflow``: by name when it is on PATH, else by its full path;
    ``--data-dir`` when the app uses a folder other than the default."""
    found = shutil.which("selflow")
    script = Path(sys.executable).with_name("selflow")
    if found:
        cmd = ["selflow"]
    elif script.exists():
        cmd = [str(script)]
    else:
        cmd = [sys.executable, "-m", "selflow_qt"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return cmd


def rc_line(shell: str, command: list[str] | None = None) -> str:
    """``eval "$(selflow shell-init zsh)"``, or fish's ``selflow shell-init fish | source``."""
    prog = shlex.join(command or ["selflow"])
    if shell == "fish":
        return f"{prog} shell-init fish | source"
    return f'eval "$({prog} shell-init {shell})"'


def rc_file(shell: str, home: Path | None = None, env: Mapping[str, str] = os.environ) -> Path:
    home = Path(home) if home is not None else Path.home()
    if shell == "zsh":
        return Path(env.get("ZDOTDIR") or home) / ".zshrc"
    if shell == "fish":
        return home / ".config" / "fish" / "config.fish"
    return home / ".bashrc"


def add_to_rc(path: Path, line: str) -> bool:
    """Append ``line`` (after a comment) to ``path``; False when it is already there."""
    text = path.read_text(errors="replace") if path.exists() else ""
    if any(existing.strip() == line for existing in text.splitlines()):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    lead = "" if not text or text.endswith("\n") else "\n"
    with path.open("a") as f:
        f.write(f"{lead}\n{COMMENT}\n{line}\n")
    return True
