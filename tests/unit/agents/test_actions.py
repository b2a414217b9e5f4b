"""Action keys: home folders, full lines."""

from __future__ import annotations

from selflow_qt.agents.ranking.actions import full_key, tilde
from selflow_qt.core.event import Event


def test_a_home_folder_is_replaced_only_at_the_start_of_a_path():
    assert tilde("/tmp/x/home/u/projects/a.md") == "/tmp/x/home/u/projects/a.md"
    assert tilde("/home/u/projects/a.md") == "~/projects/a.md"
    assert tilde("/var/home/u/projects/a.md") == "~/projects/a.md"
    assert tilde("cp /home/u/a /mnt/home/u/b") == "cp ~/a /mnt/home/u/b"
    assert tilde("--out=/Users/ann/x.txt") == "--out=~/x.txt"
    assert tilde("/root") == "~" and tilde("/rootfs/a") == "/rootfs/a"
    assert tilde(r"C:\Users\ann\doc.txt") == r"~\doc.txt"


def test_the_full_key_keeps_arguments_numbers_and_words():
    ev = Event(
        ts=1, source="shell", action="command", cmd="nmap  -p 22 /home/u/10.1.26.9 a b c d e f"
    )
    assert full_key(ev) == "shell run nmap -p 22 ~/10.1.26.9 a b c d e f"
    fs = Event(ts=1, source="fs", action="modify", path="/home/u/a.py")
    assert full_key(fs) == "fs modify ~/a.py"
