"""The hooks in real interactive shells on a pty: what the user types reaches the database with
its folder and exit status, the prompt is unaffected when SelFlow is stopped, and hostile lines
are recorded safely. zsh and fish are tested where installed (tests/support/programs.py skips
the others with the package to install)."""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from programs import require_program

from selflow_qt.collect.service import CollectionService
from selflow_qt.collect.shell_hook import ShellHookCollector
from selflow_qt.collect.shell_hook_scripts import hook_script
from selflow_qt.collect.shell_spool import spool_dir_for
from selflow_qt.core.settings import Settings
from selflow_qt.store.db import db_path_for

PROMPT = b"SFP> "


def need_shell(name: str) -> str:
    """The shell's path; the test is skipped, naming its apt package, where it is not installed."""
    return require_program(name)


def _own_tty() -> None:
    """In the child: a new session whose controlling terminal is the pty (fish insists)."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyShell:
    """An interactive shell on a pseudo-terminal, with SelFlow's hook and a known prompt."""

    def __init__(self, shell: str, home: Path, spool: Path, cwd: Path):
        import pty

        exe = need_shell(shell)
        home.mkdir(parents=True, exist_ok=True)
        hook = home / f"hook.{shell}"
        hook.write_text(hook_script(shell, spool))
        env = {"HOME": str(home), "TERM": "dumb", "PATH": os.environ.get("PATH", "/usr/bin")}
        env["LANG"] = env["LC_ALL"] = "C.UTF-8"
        if shell == "bash":
            rc = home / ".bashrc"
            rc.write_text(f"PS1='SFP> '\nHISTCONTROL=ignorespace\nsource '{hook}'\n")
            argv = [exe, "--noprofile", "--rcfile", str(rc), "-i"]
        elif shell == "zsh":
            (home / ".zshrc").write_text(f"PROMPT='SFP> '\nunsetopt zle\nsource '{hook}'\n")
            env["ZDOTDIR"] = str(home)
            argv = [exe, "-i"]
        else:
            init = f"function fish_prompt; printf 'SFP> '; end; source '{hook}'"
            argv = [exe, "--no-config", "-i", "-C", init]
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, preexec_fn=_own_tty
        )
        os.close(slave)
        self.out = b""
        self.wait_prompt()

    def wait_prompt(self, timeout: float = 20.0) -> float:
        """Seconds until the next prompt shows."""
        t0 = time.perf_counter()
        deadline = time.monotonic() + timeout
        while PROMPT not in self.out:
            if time.monotonic() > deadline:
                raise AssertionError(f"no prompt; the shell wrote {self.out[-500:]!r}")
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.master, 1 << 16)
                except OSError:
                    break
        self.out = self.out[self.out.index(PROMPT) + len(PROMPT) :]
        return time.perf_counter() - t0

    def run(self, line: bytes | str, timeout: float = 30.0) -> float:
        data = line.encode() if isinstance(line, str) else line
        for i in range(0, len(data), 4096):  # the pty takes a long line in pieces
            os.write(self.master, data[i : i + 4096])
            self._drain()
        os.write(self.master, b"\n")
        return self.wait_prompt(timeout)

    def _drain(self) -> None:
        while select.select([self.master], [], [], 0)[0]:
            try:
                self.out += os.read(self.master, 1 << 16)
            except OSError:
                return
            self.out = self.out[-4096:] if PROMPT not in self.out else self.out

    def close(self) -> None:
        try:
            os.write(self.master, b"exit\n")
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)
        os.close(self.master)


def _shell_rows(data_dir: Path) -> list[dict]:
    with sqlite3.connect(db_path_for(data_dir)) as conn:
        rows = conn.execute(
            "SELECT cmd, cwd, duration, meta, ts FROM events WHERE source = 'shell' ORDER BY id"
        ).fetchall()
    return [
        {"cmd": c, "cwd": w, "duration": d, "meta": json.loads(m), "ts": ts}
        for c, w, d, m, ts in rows
    ]


def _wait_rows(service, data_dir, n, timeout=20.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    rows: list[dict] = []
    while time.monotonic() < deadline:
        service.writer.flush()
        rows = _shell_rows(data_dir)
        if len(rows) >= n:
            return rows
        time.sleep(0.1)
    return rows


@pytest.fixture
def service(data_dir, tmp_path):
    hist = tmp_path / "history"
    hist.write_text("")
    settings = Settings(shell_history_files=[str(hist)])
    svc = CollectionService(data_dir, settings, fs=False, apps=False, shell=True)
    svc.start()
    yield svc
    svc.stop()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_commands_reach_the_database_with_folder_and_exit_status(
    shell, service, data_dir, tmp_path
):
    need_shell(shell)
    work = tmp_path / "project"
    (work / "src").mkdir(parents=True)
    sh = PtyShell(shell, tmp_path / "home", spool_dir_for(data_dir), work)
    try:
        sh.run("cd src")
        sh.run("true")
        sh.run("false")
        sh.run("sleep 0.3")
    finally:
        sh.close()
    rows = _wait_rows(service, data_dir, 4)
    got = [(r["cmd"], r["cwd"], r["meta"].get("exit")) for r in rows]
    assert got == [
        ("cd src", str(work), 0),
        ("true", str(work / "src"), 0),
        ("false", str(work / "src"), 1),
        ("sleep 0.3", str(work / "src"), 0),
    ]
    assert rows[3]["duration"] >= 0.3 and rows[1]["duration"] < 0.3
    assert {r["meta"]["shell"] for r in rows} == {shell}
    assert len({r["meta"]["session"] for r in rows}) == 1
    if shell != "fish":  # fish has no clock: its records are dated when read
        assert abs(rows[0]["ts"] - time.time()) < 60


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_prompt_works_with_selflow_stopped_and_nothing_is_lost(shell, data_dir, tmp_path):
    need_shell(shell)
    sh = PtyShell(shell, tmp_path / "home", spool_dir_for(data_dir), tmp_path)
    try:
        waits = [sh.run(f"echo {i}") for i in range(5)]
    finally:
        sh.close()
    assert max(waits) < 2.0  # nothing to wait for: no socket, no process
    spool = spool_dir_for(data_dir)
    files = list(spool.glob(f"{shell}.*.spool"))
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o600"
    collector = ShellHookCollector(spool)  # SelFlow starts later
    out: list = []
    collector.poll(out.append)
    assert [e.cmd for e in out] == [f"echo {i}" for i in range(5)]
    assert all(e.meta["exit"] == 0 and e.cwd == str(tmp_path) for e in out)


def test_hostile_lines_are_recorded_safely_and_nothing_after_them_is_lost(
    service, data_dir, tmp_path
):
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    # typed through readline (a terminal in canonical mode would cut a line at 4,095 bytes)
    sh = PtyShell("bash", tmp_path / "home", spool_dir_for(data_dir), tmp_path)
    big = "echo " + "x" * (1 << 20) + " >/dev/null"
    try:
        sh.run("echo 'it'\"'\"'s' \"a \\\"b\\\"\" $'\\x1e' ")
        sh.run("printf '%s\\n' 'two\nlines'")
        sh.run(b"echo \xff\xfe not-utf8")
        sh.run(f"export GITHUB_TOKEN={token}")
        sh.run(big, timeout=120)
        sh.run("echo after")
    finally:
        sh.close()
    rows = _wait_rows(service, data_dir, 6)
    cmds = [r["cmd"] for r in rows]
    assert cmds[0] == "echo 'it'\"'\"'s' \"a \\\"b\\\"\" $'\\x1e' "
    assert cmds[1] == "printf '%s\\n' 'two\nlines'"
    assert cmds[2] == "echo \ufffd\ufffd not-utf8" and rows[2]["meta"]["undecodable"] is True
    assert token not in cmds[3] and "[REDACTED]" in cmds[3]
    assert cmds[4].startswith("echo xxx") and rows[4]["meta"]["truncated"] == {"cmd": len(big)}
    assert cmds[5] == "echo after"
    assert all(r["meta"]["exit"] == 0 for r in rows)
    spool_text = b"".join(p.read_bytes() for p in spool_dir_for(data_dir).glob("*.spool"))
    assert spool_text.count(b"\x1ev1 bash") == 6


def _wait(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_bash_puts_selflows_suggestion_on_the_line_and_running_it_resolves_the_arm(
    service, data_dir, tmp_path
):
    """The serving path writes the session's ready file after each command; Ctrl-G puts its
    first line that extends what is typed on the command line; the next command resolves the
    bandit's suggestion at once (a success exactly when it was the arm's first guess)."""
    from selflow_qt.agents.serving.prompt_serving import serve_prompt, suggestion_file
    from selflow_qt.store.db import open_database
    from selflow_qt.store.models import UserInteraction

    need_shell("bash")
    prompt = serve_prompt(service)
    assert prompt is not None
    sh = PtyShell("bash", tmp_path / "home", spool_dir_for(data_dir), tmp_path)
    try:
        for line in ["echo one", "echo two", "echo one", "echo two", "echo one"]:
            sh.run(line)
        _wait_rows(service, data_dir, 5)
        files = lambda: list(spool_dir_for(data_dir).glob("suggest.*"))  # noqa: E731
        assert _wait(lambda: files() and "echo two\n" in files()[0].read_text())
        assert suggestion_file(spool_dir_for(data_dir)).exists()
        assert oct(files()[0].stat().st_mode & 0o777) == "0o600"
        sh.run(b"echo t\x07")  # typed 'echo t', then Ctrl-G, then Enter
        rows = _wait_rows(service, data_dir, 6)
        assert rows[-1]["cmd"] == "echo two"
    finally:
        sh.close()
        prompt.stop()
    db = open_database(data_dir)
    try:
        at_prompt = lambda: [  # noqa: E731
            it
            for it in UserInteraction.select().where(UserInteraction.success.is_null(False))
            if (it.data or {}).get("at_prompt")
        ]
        assert _wait(at_prompt)
        # the arm is judged on its own first guess (the ready file leads with the prompt
        # scorer's lines, which the arm's ranking only informs)
        it = at_prompt()[-1]
        assert it.success == (it.data["keys"][0] == "shell run echo two")
    finally:
        db.close()


class TmuxShell:
    """A shell with SelFlow's hook in a real terminal (tmux), for what zle and readline draw."""

    def __init__(self, shell: str, home: Path, spool: Path) -> None:
        self.tmux = require_program("tmux")
        exe = need_shell(shell)
        home.mkdir(parents=True, exist_ok=True)
        hook = home / f"hook.{shell}"
        hook.write_text(hook_script(shell, spool))
        self.name = f"selflow-test-{os.getpid()}-{shell}"
        self.sock = (
            f"/tmp/selflow-tmux-{os.getpid()}-{shell}.sock"  # short: a socket path has ~100 bytes
        )
        if shell == "zsh":
            (home / ".zshrc").write_text(f"PROMPT='SFP> '\nsource '{hook}'\n")
            cmd = f"env ZDOTDIR={home} HOME={home} {exe} -i"
        elif shell == "bash":
            (home / ".bashrc").write_text(f"PS1='SFP> '\nsource '{hook}'\n")
            cmd = f"env HOME={home} {exe} --noprofile --rcfile {home / '.bashrc'} -i"
        else:
            init = f"function fish_prompt; printf 'SFP> '; end; source '{hook}'"
            cmd = f'env HOME={home} {exe} --no-config -i -C "{init}"'
        self._tmux("new-session", "-d", "-s", self.name, "-x", "100", "-y", "10", cmd)
        if not _wait(lambda: "SFP>" in self.screen()):  # (capture-pane drops trailing spaces)
            screen = self.screen()
            self.close()  # no tmux server left behind
            raise AssertionError(f"no prompt: {screen!r}")

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(
            [self.tmux, "-S", self.sock, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def screen(self, escapes: bool = False) -> str:
        return self._tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.name)

    def close(self) -> None:
        self._tmux("kill-server")
        Path(self.sock).unlink(missing_ok=True)


def _ready_file(spool: Path, lines: list[str]) -> None:
    spool.mkdir(parents=True, exist_ok=True)
    (spool / "suggest").write_text("".join(f"{x}\n" for x in lines))


def test_zsh_shows_the_suggestion_as_ghost_text_and_right_arrow_accepts_it(tmp_path):
    spool = tmp_path / "spool"
    _ready_file(spool, ['git commit -m "wip"', "ls -la", "git status"])
    sh = TmuxShell("zsh", tmp_path / "home", spool)
    try:
        sh.keys("git s")
        assert _wait(lambda: "git s\x1b[90mtatus" in sh.screen(escapes=True)), sh.screen(True)
        sh.keys("Right")
        assert _wait(lambda: "SFP> git status" in sh.screen()), sh.screen()
        sh.keys("C-u", "git ")  # the first line that extends what is typed
        assert _wait(lambda: "git \x1b[90mstatus" in sh.screen(escapes=True)), sh.screen(True)
    finally:
        sh.close()


def test_zsh_passes_by_a_line_shown_at_an_earlier_look_on_the_same_line(tmp_path):
    """The empty prompt showed 'git commit -m "wip"'; typing 'git ' on past it says it was not
    wanted, so the next look shows the next line that fits (within a word: no new look)."""
    spool = tmp_path / "spool"
    _ready_file(spool, ['git commit -m "wip"', "git status", "ls -la"])
    sh = TmuxShell("zsh", tmp_path / "home", spool)
    try:
        sh.keys("C-u")  # a redraw at the empty prompt (a fresh prompt draws no ghost text yet)
        assert _wait(lambda: 'SFP> \x1b[90mgit commit -m "wip"' in sh.screen(escapes=True))
        sh.keys("git")  # within a word: the same line
        assert _wait(lambda: 'git\x1b[90m commit -m "wip"' in sh.screen(escapes=True))
        sh.keys(" ")  # a new look
        assert _wait(lambda: "git \x1b[90mstatus" in sh.screen(escapes=True)), sh.screen(True)
        sh.keys("c")  # what is typed decides: the passed-by line fits again
        assert _wait(lambda: 'git c\x1b[90mommit -m "wip"' in sh.screen(escapes=True))
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_the_key_puts_the_suggestion_on_the_command_line(shell, tmp_path):
    spool = tmp_path / "spool"
    _ready_file(spool, ['git commit -m "wip"', "ls -la", "git status"])
    sh = TmuxShell(shell, tmp_path / "home", spool)
    try:
        sh.keys("git s", "C-g")
        assert _wait(lambda: "SFP> git status" in sh.screen()), sh.screen()
        sh.keys("C-u", "C-g")  # at an empty prompt: the first line
        assert _wait(lambda: 'SFP> git commit -m "wip"' in sh.screen()), sh.screen()
    finally:
        sh.close()
