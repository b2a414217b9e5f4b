"""One way to run a child process: start it, read its messages, cancel it, limit its time, and
say why it ended, with its output kept in a log in the data folder.

Training, the analysis process, the clusterers and the ranking agent's refit all run through it.
The caller gives a real function, ``target(channel, *args)``; the child calls
``core.child.end_with_parent`` before anything else (it ends within 2 s of its parent's death or
of a SIGTERM), sends messages over a pipe with ``channel.send``/``channel.progress``, and its
return value (or the exception it raised, as one line) comes back in ``ChildExit``.

Two ways to start it: ``EXEC`` runs a fresh interpreter (``python -m core.channel``, told the
target over the pipe), so the child gets its own environment, umask and interpreter; a
``multiprocessing`` context (spawn, forkserver) starts it the way that context does (the
clusterers' forkserver has scikit-learn loaded already).
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe, wait
from pathlib import Path
from typing import Any

from selflow_qt.core import channel
from selflow_qt.core.channel import EXIT_CANCELLED, EXIT_OUT_OF_MEMORY, FINAL, Channel, Options
from selflow_qt.core.child import GRACE_S, child_env, exit_reason, sweep_run_folders

__all__ = ["Channel", "Child", "ChildExit", "start", "wait_any", "log_file"]
EXEC = "exec"  # a fresh interpreter (subprocess)
OK, FAILED, CANCELLED, TIMED_OUT, KILLED = "ok", "failed", "cancelled", "timed out", "killed"
LOGS_KEPT = 20  # per kind; older logs are removed when a new one starts
KILL_AFTER_S = 30.0  # a cancelled child still running this long after SIGTERM is killed


@dataclass
class ChildExit:
    """Why a child ended: ``reason`` is one of ok / failed / cancelled / timed out / killed;
    ``message`` one line a user can act on (empty when ok)."""

    reason: str
    message: str
    code: int | None
    result: Any = None
    log: Path | None = None

    @property
    def ok(self) -> bool:
        return self.reason == OK


def log_file(data_dir: Path, kind: str, keep: int = LOGS_KEPT) -> Path:
    """A new private log, ``<data>/logs/<kind>-<stamp>.log``; the oldest beyond ``keep`` go."""
    folder = Path(data_dir) / "logs"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    old = sorted(folder.glob(f"{kind}-[0-9]*.log"))
    for path in old[: max(0, len(old) - keep + 1)]:
        path.unlink(missing_ok=True)
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now % 1 * 1e6):06d}"
    path = folder / f"{kind}-{stamp}.log"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


class Child:
    """A started child. ``poll``/``wait`` return its ``ChildExit`` once it ended (then the same
    one); ``on_exit`` is called once with it."""

    def __init__(
        self,
        proc: subprocess.Popen | Any,
        conn: Connection,
        what: str,
        log: Path | None,
        time_limit_s: float | None,
        on_exit: Callable[[ChildExit], None] | None,
    ) -> None:
        self._proc = proc
        self._conn: Connection | None = conn
        self.what = what
        self.log = log
        self.time_limit_s = time_limit_s
        self.on_exit = on_exit
        self.started = time.monotonic()
        self._final: tuple[str, Any] | None = None
        self._cancelled_at: float | None = None
        self._timed_out = False
        self.exit: ChildExit | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def connection(self) -> Connection | None:
        """The pipe from the child (for ``multiprocessing.connection.wait``); None once closed."""
        return self._conn

    def _code(self) -> int | None:
        if isinstance(self._proc, subprocess.Popen):
            return self._proc.poll()
        return None if self._proc.is_alive() else self._proc.exitcode

    @property
    def alive(self) -> bool:
        """The process is still running (its exit may not be read yet: see ``poll``)."""
        return self._code() is None

    def join(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for the process to end; its exit code, None if still running."""
        if isinstance(self._proc, subprocess.Popen):
            try:
                return self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        self._proc.join(timeout)
        return self._proc.exitcode

    def send(self, obj: Any) -> None:
        """A message to the child (``channel.recv`` there)."""
        if self._conn is None:
            raise BrokenPipeError("the child's pipe is closed")
        self._conn.send(obj)

    def recv(self, timeout: float = 0.0) -> tuple[str, Any] | None:
        """The child's next message, ``(tag, payload)``; None when none came within ``timeout``
        or the pipe closed (the child ended). Its final message is kept for ``ChildExit``."""
        while self._conn is not None:
            try:
                if not self._conn.poll(timeout):
                    return None
                message = self._conn.recv()
            except (EOFError, OSError):
                self._conn.close()
                self._conn = None
                return None
            if isinstance(message, tuple) and message and message[0] in FINAL:
                self._final = message
                continue
            return message
        return None

    def cancel(self) -> None:
        """Ask the child to end (SIGTERM); it is killed if still running ``KILL_AFTER_S`` later."""
        if self._cancelled_at is None and self.exit is None:
            self._cancelled_at = time.monotonic()
            self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        try:
            os.kill(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        """Close this side of the pipe (the child's ``channel.poll`` then sees its end)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def stop(self) -> ChildExit:
        """End the child now: SIGTERM, SIGKILL 2 s later if needed; returns its exit."""
        if self.alive:
            self._stop()
        out = self.poll()
        assert out is not None
        return out

    def _stop(self) -> None:
        self._signal(signal.SIGTERM)
        if self.join(2.0) is None:
            self._signal(signal.SIGKILL)
            self.join(5.0)

    def poll(self, on_message: Callable[[Any], None] | None = None) -> ChildExit | None:
        """Hand the messages that arrived to ``on_message``; the exit once the child ended."""
        if self.exit is not None:
            return self.exit
        while (message := self.recv(0.0)) is not None:
            if on_message is not None:
                on_message(message)
        now = time.monotonic()
        if self._code() is None:
            if self.time_limit_s is not None and now - self.started > self.time_limit_s:
                self._timed_out = True
                self._stop()
            elif self._cancelled_at is not None and now - self._cancelled_at > KILL_AFTER_S:
                self._signal(signal.SIGKILL)
            if self._code() is None:
                return None
        while self.recv(0.0) is not None:  # what it sent just before it ended
            pass
        return self._finish()

    def wait(
        self,
        on_message: Callable[[Any], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        timeout: float | None = None,
    ) -> ChildExit | None:
        """Until the child ends (None if ``timeout`` passed first); ``should_stop()`` cancels."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (out := self.poll(on_message)) is None:
            if should_stop is not None and self._cancelled_at is None and should_stop():
                self.cancel()
            if deadline is not None and time.monotonic() > deadline:
                return None
            if self._conn is not None:
                wait([self._conn], 0.2)
            else:
                self.join(0.2)
        return out

    def _finish(self) -> ChildExit:
        code = self.join(5.0)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.log is not None:
            _redact_file(self.log)
        self.exit = self._reason(code)
        if self.on_exit is not None:
            self.on_exit(self.exit)
        return self.exit

    def _reason(self, code: int | None) -> ChildExit:
        tag, payload = self._final or ("", None)

        def out(reason: str, message: str, result: Any = None) -> ChildExit:
            return ChildExit(reason, message, code, result, self.log)

        if self._timed_out:
            return out(TIMED_OUT, f"{self.what} timed out after {self.time_limit_s:g} s")
        if self._cancelled_at is not None and tag != "returned":
            return out(CANCELLED, "cancelled by the user")
        if tag == "returned" and code == 0:
            return out(OK, "", payload)
        if code == EXIT_CANCELLED:
            return out(KILLED, f"{self.what} was stopped (SIGTERM) before it finished")
        if code == EXIT_OUT_OF_MEMORY:
            return out(FAILED, f"{self.what} ran out of memory")
        if code is not None and code < 0:
            return out(KILLED, exit_reason(code, "", self.what))
        if tag == "raised":
            return out(FAILED, str(payload))
        return out(FAILED, exit_reason(code if code is not None else 1, self._tail(), self.what))

    def _tail(self) -> str:
        if self.log is None:
            return ""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return ""


def _redact_file(path: Path) -> None:
    """The log with every default secret rule applied (a traceback may quote what it read)."""
    from selflow_qt.core.privacy import redact_text

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        clean = redact_text(text) or ""
        if clean != text:
            path.write_text(clean, encoding="utf-8")
    except OSError:
        pass


def start(
    target: Callable[..., Any],
    *args: Any,
    kind: str,
    data_dir: Path | None = None,
    context: Any = EXEC,
    what: str | None = None,
    time_limit_s: float | None = None,
    env: dict | None = None,
    python: str | None = None,
    umask: int | None = None,
    grace_s: float = GRACE_S,
    cleanup: Iterable[Path] = (),
    on_exit: Callable[[ChildExit], None] | None = None,
    daemon: bool = True,
) -> Child:
    """Run ``target(channel, *args)`` in a child process; returns at once.

    ``kind`` names the job ("training", "refit"); with ``data_dir`` the child's stdout and stderr
    go to ``log_file(data_dir, kind)``. ``context``: ``EXEC`` or a ``multiprocessing`` context.
    ``env`` is added to the child's environment; ``python``, ``umask`` apply to ``EXEC`` only.
    ``cleanup``: folders the child removes if its parent dies first. ``daemon=False`` (a
    ``multiprocessing`` child that starts children of its own) is joined at exit. Run folders
    of killed runs (``core.child.run_folder``) are removed first.
    """
    sweep_run_folders()
    log = None
    if data_dir is not None:
        try:
            log = log_file(data_dir, kind)
        except OSError:  # a full or read-only data folder: the child runs, its output unkept
            log = None
    opts = Options(os.getpid(), grace_s, log, dict(env or {}), [Path(p) for p in cleanup])
    ours, theirs = Pipe(duplex=True)
    job = (target, args, opts)
    if context == EXEC:
        proc = _exec(ours, theirs, job, python, umask)
    else:
        proc = context.Process(target=channel.mp_main, args=(theirs, *job), name=f"selflow-{kind}")
        proc.daemon = daemon
        proc.start()
        theirs.close()
    return Child(proc, ours, what or f"the {kind} process", log, time_limit_s, on_exit)


def _exec(ours: Connection, theirs: Connection, job: tuple, python, umask) -> subprocess.Popen:
    """A fresh interpreter running ``core.channel``, told its job (and ``sys.path``) over the
    pipe once it started: the target's module is imported there under the child's environment."""
    opts = job[2]
    out = os.open(opts.log, os.O_WRONLY | os.O_APPEND) if opts.log is not None else None
    try:
        proc = subprocess.Popen(
            [python or sys.executable, "-m", channel.__name__, str(theirs.fileno())],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            pass_fds=(theirs.fileno(),),
            env=child_env({**os.environ, **opts.env}),
            umask=-1 if umask is None else umask,
        )
    finally:
        if out is not None:
            os.close(out)
    theirs.close()
    try:
        ours.send((list(sys.path), pickle.dumps(job)))
    except OSError:  # it ended before it read its job: its exit code says why
        pass
    return proc


def wait_any(children: Iterable[Child], timeout: float) -> None:
    """Sleep until one of ``children`` has a message or ended, at most ``timeout`` seconds."""
    conns = [c.connection for c in children if c.connection is not None]
    if conns:
        wait(conns, max(0.0, timeout))
    else:
        time.sleep(max(0.0, timeout))
