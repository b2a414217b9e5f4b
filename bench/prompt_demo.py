"""SelFlow at the prompt, end to end, as a user sees it: real zsh and bash in tmux with the hook
from `selflow shell-init`, a real `selflow collect` recording the commands and writing the
suggestions. Prints the zsh screen with its grey ghost text (tmux capture-pane -e, the escape
codes shown), the bash screen after Ctrl-G, and the recorded events (`selflow export jsonl`:
folder, exit status, duration).

    .venv/bin/python bench/prompt_demo.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shell import start_collector  # noqa: E402  (bench/shell.py)

from selflow_qt.collect.shell_hook_scripts import hook_script  # noqa: E402
from selflow_qt.collect.shell_spool import spool_dir_for  # noqa: E402

ROUTINE = ["cd work", "echo draft >notes.txt", "cat notes.txt", "false", "cd .."]


class Tmux:
    def __init__(self, shell: str, home: Path, hook: Path) -> None:
        self.sock = f"/tmp/selflow-demo-{os.getpid()}-{shell}.sock"
        self.name = f"demo-{shell}"
        if shell == "zsh":
            (home / ".zshrc").write_text(f"PROMPT='%~ %% '\nsource '{hook}'\n")
            cmd = f"env ZDOTDIR={home} HOME={home} zsh -i"
        else:
            (home / ".bashrc").write_text(f"PS1='\\w $ '\nsource '{hook}'\n")
            cmd = f"env HOME={home} bash --noprofile --rcfile {home / '.bashrc'} -i"
        self._tmux("new-session", "-d", "-s", self.name, "-x", "90", "-y", "12", "-c", home, cmd)
        time.sleep(1.0)

    def _tmux(self, *args) -> str:
        return subprocess.run(
            ["tmux", "-S", self.sock, *map(str, args)], capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def screen(self, escapes: bool = False) -> str:
        return self._tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.name)

    def close(self) -> None:
        self._tmux("kill-server")
        Path(self.sock).unlink(missing_ok=True)


def run_routine(sh: Tmux, times: int) -> None:
    for _ in range(times):
        for line in ROUTINE:
            sh.keys(line, "Enter")
            time.sleep(0.4)


def show(title: str, text: str) -> None:
    print(f"\n### {title}\n```")
    print("\n".join(text.rstrip("\n").splitlines()[-4:]).replace("\x1b", "\\e"))
    print("```")


def main() -> int:
    for program in ("tmux", "zsh", "bash"):
        if shutil.which(program) is None:
            print(f"{program} is not installed (.ci/run installs it)", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="selflow-prompt-demo-") as t:
        data_dir = Path(t) / "data"
        proc = start_collector(data_dir)
        try:
            for shell, prefix in (("zsh", "c"), ("bash", "c")):
                home = Path(t) / f"home-{shell}"
                (home / "work").mkdir(parents=True)
                hook = home / f"hook.{shell}"
                hook.write_text(hook_script(shell, spool_dir_for(data_dir)))
                sh = Tmux(shell, home, hook)
                try:
                    run_routine(sh, 3)
                    sh.keys("cd work", "Enter", "echo draft >notes.txt", "Enter")
                    time.sleep(1.5)  # the collector reads the spool and writes the ready file
                    sh.keys(prefix)
                    if shell == "bash":
                        sh.keys("C-g")
                    time.sleep(1.0)
                    what = "grey ghost text (\\e[90m)" if shell == "zsh" else "after Ctrl-G"
                    what += "; the most recent line with 'c' is 'cd work'"
                    show(f"{shell}: typed {prefix!r}, {what}", sh.screen(escapes=shell == "zsh"))
                    sh.keys("C-u")
                finally:
                    sh.close()
            time.sleep(1.0)
        finally:
            proc.terminate()
            proc.wait(30)
        out = subprocess.run(
            [sys.executable, "-m", "selflow_qt", "--data-dir", str(data_dir), "export", "jsonl"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows = [json.loads(x) for x in out.splitlines() if x.strip()]
        print("\n### recorded events (selflow export jsonl), the last 6")
        print("| cmd | cwd | exit | duration s | shell |")
        print("|---|---|--:|--:|---|")
        for ev in rows[-6:]:
            meta = ev.get("meta") or {}
            dur = ev.get("duration")
            print(
                f"| `{ev.get('cmd')}` | {ev.get('cwd')} | {meta.get('exit')} "
                f"| {dur if dur is None else round(dur, 3)} | {meta.get('shell')} |"
            )
        print(f"\n{len(rows)} events recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
