"""`selflow shell-init bash|zsh|fish`: the hook that records each command as it finishes."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "shell-init",
        help='print the shell hook for your rc file: eval "$(selflow shell-init bash)"',
        description=(
            "Print a hook that records each command when it finishes (line, folder, exit "
            "status, duration) for SelFlow, and shows SelFlow's next-command suggestion at the "
            "prompt (zsh: grey ghost text, accepted with the right arrow or End; bash and fish: "
            "Ctrl-G, or the key in SELFLOW_SUGGEST_KEY, puts it on the command line; off with "
            "prompt_suggestions: false in settings.json). bash/zsh: add 'eval \"$(selflow shell-init bash)\"' "
            "(or zsh) at the end of ~/.bashrc or ~/.zshrc; fish: add "
            "'selflow shell-init fish | source' to ~/.config/fish/config.fish."
        ),
    )
    p.add_argument("shell", choices=("bash", "zsh", "fish"))
    p.set_defaults(func=run_shell_init)


def run_shell_init(args: argparse.Namespace) -> int:
    from selflow_qt.collect.shell_hook_scripts import hook_script
    from selflow_qt.collect.shell_spool import ensure_spool_dir, spool_dir_for
    from selflow_qt.core.settings import resolve_data_dir

    spool = spool_dir_for(resolve_data_dir(getattr(args, "data_dir", None)))
    try:
        ensure_spool_dir(spool)
    except OSError as exc:  # the hook makes it itself later; say why now
        print(f"selflow: cannot create {spool}: {exc}", file=sys.stderr)
    from selflow_qt.core.settings import Settings

    suggest = Settings.load(resolve_data_dir(getattr(args, "data_dir", None))).prompt_suggestions
    sys.stdout.write(hook_script(args.shell, spool, suggest=suggest))
    return 0
