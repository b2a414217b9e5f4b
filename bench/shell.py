"""Shell hook benchmark: what `selflow shell-init` adds to a prompt, and how soon a command is in
the database.

    .venv/bin/python bench/shell.py [--runs 200] [--shells bash zsh fish]

For each installed shell: (1) the hook's own cost per prompt, timed inside the shell over 2,000
calls (no terminal in the way); (2) the prompt round trip on a pty (type ``:``, wait for the
prompt) without the hook, with it and SelFlow stopped, and with it and `selflow collect`
running in a child process; (3) command-to-database delay: ``echo <marker>`` typed, then the
database polled every 10 ms until the row is there. Targets (issue 22): < 5 ms per prompt with
SelFlow running, < 2 ms without.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from selflow_qt.collect.shell_hook_scripts import hook_script  # noqa: E402
from selflow_qt.collect.shell_spool import spool_dir_for  # noqa: E402

PROMPT = b"SFP> "

# One prompt's work by the hook, repeated (the time a command ran is faked as "just now").
_SELF_TIME = {
    "bash": "__selflow_h=-1; __selflow_t=${EPOCHREALTIME/[.,]/}; __selflow_precmd",
    "zsh": "__selflow_preexec ':'; __selflow_precmd",
    "fish": "__selflow_postexec ':'",
}


def _own_tty() -> None:
    """In the child: a new session whose controlling terminal is the pty (fish insists)."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Pty:
    def __init__(self, shell: str, home: Path, cwd: Path, hook: Path | None) -> None:
        import pty

        home.mkdir(parents=True, exist_ok=True)
        src = f"source '{hook}'\n" if hook else ""
        env = {"HOME": str(home), "TERM": "dumb", "PATH": os.environ.get("PATH", "/usr/bin")}
        if shell == "bash":
            (home / ".bashrc").write_text(f"PS1='SFP> '\n{src}")
            argv = ["bash", "--noprofile", "--rcfile", str(home / ".bashrc"), "-i"]
        elif shell == "zsh":
            (home / ".zshrc").write_text(f"PROMPT='SFP> '\nunsetopt zle\n{src}")
            env["ZDOTDIR"] = str(home)
            argv = ["zsh", "-i"]
        else:
            argv = [
                "fish",
                "--no-config",
                "-i",
                "-C",
                f"function fish_prompt; printf 'SFP> '; end\n{src}",
            ]
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, preexec_fn=_own_tty
        )
        os.close(slave)
        self.buf = b""
        self.wait()

    def wait(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while PROMPT not in self.buf:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no prompt: {self.buf[-300:]!r}")
            if select.select([self.master], [], [], 0.05)[0]:
                self.buf += os.read(self.master, 1 << 16)
        self.buf = self.buf[self.buf.index(PROMPT) + len(PROMPT) :]

    def run(self, line: str) -> float:
        t = time.perf_counter()
        os.write(self.master, line.encode() + b"\n")
        self.wait()
        return time.perf_counter() - t

    def run_marked(self, line: str, timeout: float = 300.0) -> float:
        """Seconds until ``line`` has finished, known by a marker it prints after (fish may draw
        its prompt again after a command, so the prompt alone can mislead)."""
        self.n_marks = getattr(self, "n_marks", 0) + 1
        mark = f"__done_{self.n_marks}".encode()
        t = time.perf_counter()
        os.write(self.master, f"{line}; printf '__do''ne_%s\\n' {self.n_marks}\n".encode())
        deadline = time.monotonic() + timeout
        while mark not in self.buf:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no end mark: {self.buf[-300:]!r}")
            if select.select([self.master], [], [], 0.01)[0]:
                self.buf += os.read(self.master, 1 << 16)
        elapsed = time.perf_counter() - t
        self.wait()
        return elapsed

    def close(self) -> None:
        os.write(self.master, b"exit\n")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def self_time(shell: str, hook: Path, tmp: Path, n: int = 2000) -> float:
    """Microseconds per call of the hook's prompt function, timed in the shell itself."""
    sh = Pty(shell, tmp / f"home-self-{shell}", tmp, hook)
    try:
        body = _SELF_TIME[shell]
        if shell == "fish":
            loop = f"for i in (seq {n}); {body}; end"
        else:
            loop = f"for i in {{1..{n}}}; do {body}; done"
        t0 = sh.run_marked(":")
        t1 = sh.run_marked(loop)
        return max(0.0, t1 - t0) / n * 1e6
    finally:
        sh.close()


# One suggestion query as the key binding / ghost text makes it, timed per call where the shell
# has a clock ($EPOCHREALTIME): bash and zsh write each call's µs to $out; fish only the total.
_SUGGEST_LOOP = {
    "bash": (
        'for i in {{1..{n}}}; do READLINE_LINE="$typed"; s=${{EPOCHREALTIME/[.,]/}}; '
        '__selflow_suggest; e=${{EPOCHREALTIME/[.,]/}}; echo $((e-s)) >>"$out"; done'
    ),
    "zsh": (
        "zmodload zsh/datetime; for i in {{1..{n}}}; do s=$EPOCHREALTIME; "
        '__selflow_match "$typed"; e=$EPOCHREALTIME; echo $(( (e-s)*1000000 )) >>"$out"; done'
    ),
    "fish": "for i in (seq {n}); __selflow_match $typed >/dev/null; end",
}


def suggest_latency(shell: str, hook: Path, tmp: Path, spool: Path, n: int = 300) -> list[float]:
    """Milliseconds per suggestion query on a full ready file (the match on its last line); fish:
    one value, the mean (it has no clock finer than a command)."""
    spool.mkdir(parents=True, exist_ok=True)
    lines = [f"make target-{i} --jobs {i % 8}" for i in range(209)] + ["git commit -m wip"]
    (spool / "suggest").write_text("".join(f"{x}\n" for x in lines))
    out = tmp / f"suggest-{shell}.us"
    out.unlink(missing_ok=True)
    sh = Pty(shell, tmp / f"home-suggest-{shell}", tmp, hook)
    try:
        if shell == "fish":
            sh.run("set typed 'git commit '")
        else:
            sh.run(f"typed='git commit '; out='{out}'")
        t0 = sh.run_marked(":")
        t1 = sh.run_marked(_SUGGEST_LOOP[shell].format(n=n))
        if shell == "fish":
            return [max(0.0, t1 - t0) / n * 1000]
        return [float(x) / 1000 for x in out.read_text().split()]
    finally:
        sh.close()


def round_trips(shell: str, hook: Path | None, tmp: Path, runs: int, tag: str) -> list[float]:
    sh = Pty(shell, tmp / f"home-{tag}-{shell}", tmp, hook)
    try:
        for _ in range(10):
            sh.run(":")
        return [sh.run(":") for _ in range(runs)]
    finally:
        sh.close()


def start_collector(data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "SELFLOW_DATA_DIR": str(data_dir), "HOME": str(data_dir / "home")}
    (data_dir / "home").mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "selflow_qt", "collect", "--no-fs", "--no-apps"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = data_dir / "selflow.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db) as conn:
                n = conn.execute(
                    "SELECT count(*) FROM collector_status WHERE name = 'shell-hook' "
                    "AND state = 'running'"
                ).fetchone()[0]
            if n:
                return proc
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    raise RuntimeError("the collector did not start")


def to_database(shell: str, hook: Path, tmp: Path, data_dir: Path, runs: int) -> list[float]:
    db = data_dir / "selflow.db"
    sh = Pty(shell, tmp / f"home-db-{shell}", tmp, hook)
    out = []
    try:
        for i in range(runs):
            marker = f"echo selflow-bench-{shell}-{i}"
            sh.run(marker)
            t = time.perf_counter()  # the record is written before the prompt shows
            with sqlite3.connect(db) as conn:
                while not conn.execute("SELECT 1 FROM events WHERE cmd = ?", (marker,)).fetchone():
                    if time.perf_counter() - t > 30:
                        raise RuntimeError(f"{marker!r} never reached the database")
                    time.sleep(0.01)
            out.append(time.perf_counter() - t)
    finally:
        sh.close()
    return out


def percentile(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, int(q * len(ys)))]


def ms(xs: list[float], q: float) -> str:
    xs = sorted(xs)
    return f"{xs[min(len(xs) - 1, int(q * len(xs)))] * 1000:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--db-runs", type=int, default=20)
    ap.add_argument("--shells", nargs="+", default=["bash", "zsh", "fish"])
    args = ap.parse_args()
    rows = []
    for shell in args.shells:
        if shutil.which(shell) is None:
            print(f"{shell}: not installed, skipped", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory(prefix="selflow-bench-shell-") as t:
            tmp = Path(t)
            data_dir = tmp / "data"
            hook = tmp / f"hook.{shell}"
            hook.write_text(hook_script(shell, spool_dir_for(data_dir)))
            hook_us = self_time(shell, hook, tmp)
            query = suggest_latency(shell, hook, tmp, spool_dir_for(data_dir))
            base = round_trips(shell, None, tmp, args.runs, "base")
            stopped = round_trips(shell, hook, tmp, args.runs, "stopped")
            proc = start_collector(data_dir)
            try:
                running = round_trips(shell, hook, tmp, args.runs, "running")
                delays = to_database(shell, hook, tmp, data_dir, args.db_runs)
            finally:
                proc.terminate()
                proc.wait(30)
        med = statistics.median
        rows.append(
            (
                shell,
                f"{hook_us:.0f}",
                ms(base, 0.5),
                f"{(med(stopped) - med(base)) * 1000:+.2f}",
                f"{(med(running) - med(base)) * 1000:+.2f}",
                ms(running, 0.95),
                ms(delays, 0.5),
                ms(delays, 0.95),
                f"{statistics.median(query):.2f}",
                f"{percentile(query, 0.99):.2f}" if len(query) > 1 else "-",
            )
        )
    head = (
        "shell",
        "hook µs/prompt",
        "prompt p50 ms (no hook)",
        "+ms stopped",
        "+ms running",
        "p95 ms running",
        "to DB p50 ms",
        "to DB p95 ms",
        "suggestion p50 ms",
        "suggestion p99 ms",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
