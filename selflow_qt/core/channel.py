"""A supervised child's side: it ends with its parent, sends messages, and reports how it ended.

``core.supervisor.start`` runs ``target(channel, *args)`` here. With ``EXEC`` the child is
``python -m`` this module, told its target over the pipe once its environment is set.
"""

from __future__ import annotations

import atexit
import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NoReturn

from selflow_qt.core.cancel import Cancelled
from selflow_qt.core.child import end_with_parent

EXIT_FAILED, EXIT_CANCELLED, EXIT_OUT_OF_MEMORY = 1, 3, 4
FINAL = ("returned", "raised")  # the last message: the target's value, or its exception


@dataclass
class Options:
    owner: int
    grace_s: float
    log: Path | None
    env: dict = field(default_factory=dict)
    cleanup: list[Path] = field(default_factory=list)


class Channel:
    """What a child's target gets: messages to its parent, and whether it was asked to stop."""

    def __init__(self, conn: Connection, guard) -> None:
        self._conn = conn
        self._guard = guard

    def send(self, tag: str, payload: Any = None) -> None:
        self._conn.send((tag, payload))

    def progress(self, message: dict) -> None:
        """A progress message (plain JSON values: a dict of numbers and strings)."""
        self.send("progress", message)

    def poll(self, timeout: float = 0.0) -> bool:
        return self._conn.poll(timeout)

    def recv(self) -> Any:
        return self._conn.recv()

    def should_stop(self) -> bool:
        """True once the child was asked to end (SIGTERM, or its parent is gone)."""
        return self._guard.stopping.is_set()

    def on_stop(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` at once when the child is asked to end (e.g. set a cancel flag)."""
        self._guard.on_stop.append(fn)


def _to_log(log: Path) -> None:
    """Send this process's stdout and stderr (the file descriptors: C libraries too) to ``log``."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    if sys.stdout is None or sys.stderr is None:  # pythonw, a frozen app without a console
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _child_main(conn: Connection, target: Callable, args: tuple, opts: Options) -> int:
    guard = end_with_parent(
        opts.owner, cleanup=opts.cleanup, grace_s=opts.grace_s, exit_code=EXIT_CANCELLED
    )
    os.environ.update(opts.env)
    if opts.log is not None:
        _to_log(opts.log)
    channel = Channel(conn, guard)
    try:
        value = target(channel, *args)
    except Cancelled:
        return EXIT_CANCELLED
    except MemoryError:
        print("out of memory", file=sys.stderr)
        _send_final(conn, "raised", "out of memory")
        return EXIT_OUT_OF_MEMORY
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    except BaseException as exc:  # everything is reported; the parent says why it ended
        traceback.print_exc(file=sys.stderr)
        line = (f"{type(exc).__name__}: {exc}".splitlines() or [""])[0]
        print(f"failed: {line}", file=sys.stderr, flush=True)
        _send_final(conn, "raised", line)
        return EXIT_FAILED
    _send_final(conn, "returned", value)
    return 0


def _send_final(conn: Connection, tag: str, payload: Any) -> None:
    try:
        conn.send((tag, payload))
    except (OSError, ValueError):  # the parent is gone
        pass
    except Exception as exc:  # a value that cannot be pickled is a failure, said as one
        conn.send(("raised", f"{type(exc).__name__}: {exc}"))


def mp_main(conn: Connection, target: Callable, args: tuple, opts: Options) -> None:
    code = _child_main(conn, target, args, opts)
    conn.close()
    if code:
        sys.exit(code)


def leave(code: int) -> NoReturn:
    """End this interpreter as ``sys.exit`` would, less the teardown of its modules: with a model
    loaded (torch, transformers) that took 4-6 s on 2 shared cores after the result was sent,
    and the parent waits for the exit. Threads still running are waited for and the exit
    handlers run (multiprocessing's, run folders'), then the output is flushed."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # what the interpreter runs at exit (CPython's own hook)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(code)


def exec_main(fd: int) -> int:
    conn = Connection(fd)
    path, job = conn.recv()
    sys.path[:] = path + [p for p in sys.path if p not in path]  # where the parent imports from
    target, args, opts = pickle.loads(job)  # its module is imported here, the environment set
    code = _child_main(conn, target, args, opts)
    conn.close()
    return code


if __name__ == "__main__":
    from selflow_qt.core import channel as _real  # the module under its own name, not __main__

    _real.leave(_real.exec_main(int(sys.argv[1])))
