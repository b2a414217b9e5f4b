"""The one way a test finds an external program: its path, or a skip that names what to install.

`.ci/run` installs the programs the X tests need (apt: xvfb trayer xdotool x11-utils) and the
shells and terminal the shell-hook tests drive (bash zsh fish tmux); `mount` (used as root),
`sleep` and `make` come with any Linux system. A test never starts a program by a
bare name it did not get from here, so a missing one is a skip with a reason, not a
FileNotFoundError in the middle of a run.
"""

from __future__ import annotations

import shutil

import pytest

# program -> the Debian/Ubuntu package that provides it (named in the skip reason)
APT_PACKAGES = {
    "Xvfb": "xvfb",
    "trayer": "trayer",
    "xdotool": "xdotool",
    "xwininfo": "x11-utils",
    "mount": "mount",
    "umount": "mount",
    "sleep": "coreutils",
    "make": "make",
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "tmux": "tmux",
}


def find_program(name: str) -> str | None:
    """The program's path on PATH, or None."""
    return shutil.which(name)


def missing_programs(*names: str) -> list[str]:
    return [n for n in names if find_program(n) is None]


def skip_reason(names: list[str]) -> str:
    packages = sorted({APT_PACKAGES.get(n, n) for n in names})
    return f"needs {', '.join(names)} (apt: {' '.join(packages)})"


def require_program(name: str) -> str:
    """The program's path; the calling test is skipped, with what to install, where it is missing."""
    path = find_program(name)
    if path is None:
        pytest.skip(skip_reason([name]))
    return path


def require_programs(*names: str) -> dict[str, str]:
    """{name: path} for every program; one skip naming all the missing ones."""
    missing = missing_programs(*names)
    if missing:
        pytest.skip(skip_reason(missing))
    return {n: find_program(n) for n in names}
