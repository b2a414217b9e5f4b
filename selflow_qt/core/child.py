"""Child processes end with their parent, and a killed run leaves no temporary folder for good.

Every SelFlow child (training, the analysis process, clusterers, refit) calls ``end_with_parent``
first. On Linux the kernel signals it when its parent dies (``PR_SET_PDEATHSIG``); elsewhere, or
when the process that owns it is not its direct parent (a forkserver in between), a thread polls
the owner. SIGTERM and a parent's death both end the child within 2 s at any phase: its ``on_stop``
callbacks run at once (a cancel flag) and, if it is still running ``grace_s`` later, it removes its
temporary folders and leaves with ``os._exit``. A watcher thread woken through the signal wakeup
fd does this, so a main thread busy in a long C call (a model forward, a fit) cannot delay it.

The launcher's half: ``child_env`` tells a ``subprocess`` child who its parent is (closing the race
of a parent dying before the child asked to be told), and ``run_folder`` names a run's temporary
folder after its owner's pid, so the next start removes the folders of runs that were killed
(``sweep_run_folders``).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

PARENT_ENV = "SELFLOW_PARENT_PID"
GRACE_S = 1.0  # after SIGTERM: time for the work to stop on its own before os._exit
PARENT_GONE_GRACE_S = 0.5  # nobody waits for the result of an orphan
POLL_S = 0.25
RUN_PREFIX = "selflow-run-"
_RUN_NAME = re.compile(r"selflow-run-[a-z0-9]+-(\d+)-[A-Za-z0-9_]+")
_PR_SET_PDEATHSIG = 1
# Not SIGTERM: Linux sends the parent-death signal when the *thread* that started the child
# ends, though its process lives on (a worker thread of the tray started it). A signal of its
# own lets the child tell that apart from a real SIGTERM: it ends only when its parent changed.
PARENT_DEATH_SIGNAL = getattr(signal, "SIGUSR1", None)


def pid_alive(pid: object) -> bool:
    """Whether a process with this id runs now; one of another user's counts as running, and
    anything that is not a process id (None, 0, a string, a bool) as not running."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def child_env(env: dict | None = None) -> dict:
    """``env`` (default: this process's) plus this process's pid as the child's expected parent."""
    out = dict(os.environ if env is None else env)
    out[PARENT_ENV] = str(os.getpid())
    return out


class ChildGuard:
    """What ``end_with_parent`` installed: ``stopping`` is set once the child was asked to end."""

    def __init__(
        self,
        owner: int,
        on_stop: list[Callable[[], None]],
        cleanup: list[Path],
        grace_s: float,
        exit_code: int,
    ) -> None:
        self.owner = owner
        self.on_stop = on_stop
        self.cleanup = cleanup
        self.grace_s = grace_s
        self.exit_code = exit_code
        self.stopping = threading.Event()
        self.reason = ""
        self._lock = threading.RLock()  # a second signal may arrive inside stop()
        self._ppid = os.getppid()
        self._owner_started = _create_time(owner)

    def parent_gone(self) -> bool:
        """The direct parent changed (we were re-parented) or the owning process ended."""
        if os.getppid() != self._ppid:
            return True
        if self.owner == self._ppid and sys.platform.startswith("linux"):
            return False  # re-parenting is how Linux says it; no need to ask psutil
        return _create_time(self.owner) != self._owner_started

    def stop(self, reason: str) -> None:
        """End the child: the ``on_stop`` callbacks now, ``os._exit`` after the grace time."""
        with self._lock:
            if self.stopping.is_set():
                return
            self.stopping.set()
            self.reason = reason
        for fn in self.on_stop:
            try:
                fn()
            except Exception:  # a callback must not keep the child alive
                pass
        if reason == "parent":  # now: an orphan may also end on its own (a closed pipe)
            remove_folders(self.cleanup)
        grace = min(self.grace_s, PARENT_GONE_GRACE_S) if reason == "parent" else self.grace_s
        timer = threading.Timer(grace, self._exit_now)
        timer.daemon = True
        timer.start()

    def _exit_now(self) -> None:
        if self.reason == "parent" or self.parent_gone():
            remove_folders(self.cleanup)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(self.exit_code)

    def _on_signal(self, signum: int) -> None:
        if signum == signal.SIGTERM:
            self.stop("parent" if self.parent_gone() else "sigterm")
        elif signum == PARENT_DEATH_SIGNAL and self.parent_gone():
            self.stop("parent")


def end_with_parent(
    parent_pid: int | None = None,
    *,
    on_stop: Iterable[Callable[[], None]] = (),
    cleanup: Iterable[Path] = (),
    grace_s: float = GRACE_S,
    exit_code: int = 128 + signal.SIGTERM,
) -> ChildGuard:
    """Make this child end when its parent dies or on SIGTERM; call it first, from the main thread.

    ``parent_pid``: the process that started (owns) this one; default ``$SELFLOW_PARENT_PID``
    (set by ``child_env``), else the current parent. ``cleanup``: folders removed when the child
    ends because its parent is gone. ``grace_s=0`` keeps SIGTERM's default (an immediate end).
    """
    env_pid = os.environ.pop(PARENT_ENV, "")  # not inherited by this child's own children
    owner = parent_pid or (int(env_pid) if env_pid.isdigit() else os.getppid())
    guard = ChildGuard(owner, list(on_stop), [Path(p) for p in cleanup], grace_s, exit_code)
    signals = [PARENT_DEATH_SIGNAL] if PARENT_DEATH_SIGNAL is not None else []
    if grace_s > 0:
        signals.append(signal.SIGTERM)
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in signals:
            signal.signal(sig, lambda signum, _frame: guard._on_signal(signum))
        _watch_signals(guard)
    watched = in_main and PARENT_DEATH_SIGNAL is not None and _ask_kernel(PARENT_DEATH_SIGNAL)
    if guard.parent_gone() or (owner != guard._ppid and _create_time(owner) is None):
        guard.stop("parent")  # it died before we asked (or before we started)
    elif not watched or owner != guard._ppid:
        threading.Thread(
            target=_poll_parent, args=(guard,), name="selflow-parent-watch", daemon=True
        ).start()
    return guard


def _ask_kernel(sig: int) -> bool:
    """prctl(PR_SET_PDEATHSIG, sig) on Linux; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_signals(guard: ChildGuard) -> None:
    """A thread that sees each signal as it arrives (through the wakeup fd), even while the main
    thread, which runs Python's signal handlers, is inside one long C call."""
    if os.name == "nt":  # a wakeup fd must be a socket there; the Python handlers do it alone
        return
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except ValueError:  # not the main thread after all: the Python handlers do it alone
        os.close(r)
        os.close(w)
        return

    def read() -> None:
        while True:
            try:
                data = os.read(r, 64)
            except OSError:
                return
            if not data:
                return
            for signum in data:
                guard._on_signal(signum)

    threading.Thread(target=read, name="selflow-signal-watch", daemon=True).start()


def _poll_parent(guard: ChildGuard) -> None:
    while not guard.stopping.is_set():
        if guard.parent_gone():
            guard.stop("parent")
            return
        time.sleep(POLL_S)


def _create_time(pid: int) -> float | None:
    """When process ``pid`` started; None when there is none (a zombie counts as gone)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc.create_time()
    except (psutil.Error, OSError, ValueError):
        return None


def remove_folders(folders: Iterable[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


# -- the launcher's half ---------------------------------------------------------------------------


def exit_reason(code: int, stderr_tail: str, what: str) -> str:
    """Why child ``what`` ("the training process") ended with ``code``, in one line a user can
    act on: the signal that killed it, else the last line it wrote to stderr."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if code == -signal.SIGKILL else ""
        return f"{what} was killed by {name}{hint}"
    if code == 0:
        return f"{what} ended without a result"
    last = [ln for ln in stderr_tail.splitlines() if ln.strip()]
    return last[-1] if last else f"{what} exited with code {code}"


def run_folder(kind: str, root: Path | None = None) -> Path:
    """A new private temporary folder for one run, ``selflow-run-KIND-PID-XXXX``; the folders of
    runs whose process is gone are removed first."""
    root = Path(root or tempfile.gettempdir())
    sweep_run_folders(root)
    return Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{kind}-{os.getpid()}-", dir=root))


def sweep_run_folders(root: Path | None = None) -> list[Path]:
    """Remove the run folders under ``root`` (default: the temp folder) whose owner is gone."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        match = _RUN_NAME.fullmatch(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            made = entry.stat().st_mtime
        except OSError:
            continue
        started = _create_time(int(match.group(1)))
        # A live process that started after the folder was last written is a reused pid.
        if started is not None and started <= made + 1.0:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed
