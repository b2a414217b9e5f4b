"""Entry point of the bundled app: the CLI, plus the child-process forms a frozen build must honour.

A frozen ``sys.executable`` is the app itself, not Python, so children started as
``[sys.executable, "-m", "some.module", ...]`` or by ``multiprocessing`` land here first.
"""

from __future__ import annotations

import multiprocessing
import runpy
import sys

# Interpreter switches a child launch may put before ``-m``; all harmless to ignore here
# except ``-u`` (unbuffered output), which progress streams rely on.
_IGNORED_SWITCHES = {"-B", "-E", "-I", "-O", "-OO", "-s", "-S", "-u"}


def _run_module_child(argv: list[str]) -> int | None:
    """Run ``argv[0] [switches] -m MODULE ARGS`` like ``python -m``; None when argv is not that form."""
    i = 1
    while i < len(argv) and argv[i] in _IGNORED_SWITCHES:
        i += 1
    if i + 1 >= len(argv) or argv[i] != "-m":
        return None
    if "-u" in argv[1:i]:
        sys.stdout.reconfigure(write_through=True)
        sys.stderr.reconfigure(write_through=True)
    module = argv[i + 1]
    sys.argv = [argv[0], *argv[i + 2 :]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    return 0


def main() -> int:
    multiprocessing.freeze_support()
    if getattr(sys, "frozen", False):
        code = _run_module_child(sys.argv)
        if code is not None:
            return code
    from selflow_qt.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
