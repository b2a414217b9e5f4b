"""The apps collector: launches and closes of the user's programs (psutil), and focus changes.

Processes are grouped by name, so a browser's thirty helpers are one app: ``launch`` when its first
process has lived ``min_age`` seconds, ``close`` (with ``duration``) when its last one exits.
Processes of other users, kernel threads and anything shorter-lived than ``min_age`` are ignored,
and so are command-line tools, interpreters and package-maintenance scripts (:func:`is_tool`:
the shell collector records what a person types) and SelFlow itself (its own process and
any process whose command line names SelFlow). SelFlow's own window never counts
as focus. Each poll lists pids (one directory read) and inspects only new ones, so idling is cheap.
A ``focus`` event is written when a focus span ends: ``ts`` its start, ``duration`` its length.
Its status says when it last saw an event; every poll also checks that the process table shows
SelFlow itself (a table that does not cannot show the user's apps either).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field

import psutil

from selflow_qt.collect.base import RUNNING, STOPPED, Collector, Emit
from selflow_qt.collect.focus import Focus, FocusUnavailable, open_focus_reader
from selflow_qt.core.event import Event, local_tz_offset

log = logging.getLogger(__name__)

# Helpers that scripts, shells and package managers start by the hundred; never a user's "app".
NOISE = frozenset(
    """sleep cat grep sed awk ls ps head tail tr cut sort uniq wc xargs find tee time timeout
    env nice nohup ionice sh dash bash zsh fish sudo su pkexec dpkg dpkg-deb dpkg-query
    dpkg-split dpkg-trigger apt apt-get apt-cache apt-check apt-config aptd unattended-upgr
    man-db mandb man run-parts update-alternatives ldconfig install-info gzip xz tar cp mv rm
    ln mkdir chmod chown stat readlink dirname basename which id uname date true false test
    perl python python3 ruby""".split()
)
# python3.12, man-db.postinst, dpkg's maintainer scripts (foo.preinst, foo.postrm, ...)
NOISE_RE = re.compile(
    r"^(python|pypy|perl|ruby)[\d.]*$|\.(pre|post)(inst|rm)$|\.(config|triggers)$"
)
OWN_RE = re.compile(r"selflow", re.IGNORECASE)


def is_tool(name: str) -> bool:
    """A command-line tool, interpreter or package script rather than an app a person uses."""
    return name in NOISE or bool(NOISE_RE.search(name))


@dataclass
class _App:
    started: float
    pids: set[int] = field(default_factory=set)
    exe: str | None = None
    seen_at_start: bool = False


class AppCollector(Collector):
    """Polls the process table every ``poll_seconds``; reads focus every second where possible."""

    name = "apps"
    event_noun = "app event"

    def __init__(self, poll_seconds: float = 2.0, min_age: float = 2.0, focus: bool = True) -> None:
        super().__init__()
        self.poll_seconds = max(0.2, float(poll_seconds))
        self.min_age = min_age
        self.want_focus = focus
        self.uid = os.getuid() if hasattr(os, "getuid") else None
        self.user = None if self.uid is not None else psutil.Process().username()
        self.own_pid = os.getpid()
        self._own: set[int] = {self.own_pid}  # SelFlow's processes seen so far
        self.apps: dict[str, _App] = {}
        self._pid_app: dict[int, str] = {}
        self._ignored: set[int] = set()
        self._focus_reader = None
        self.focus_detail = ""
        self._focus: Focus | None = None
        self._focus_since = 0.0

    # -- loop ----------------------------------------------------------------------------------
    def run(self, emit: Emit, stopping: threading.Event) -> None:
        self._emit = emit
        if self.want_focus:
            try:
                self._focus_reader = open_focus_reader()
                self.focus_detail = "focus: on"
            except FocusUnavailable as exc:
                self.focus_detail = f"focus unavailable: {exc}"
        else:
            self.focus_detail = "focus: off"
        self.poll(emit_launches=False)
        self._report()
        tick = min(1.0, self.poll_seconds)
        next_poll = time.monotonic() + self.poll_seconds
        try:
            while not stopping.wait(tick):
                if self._focus_reader is not None:
                    self.poll_focus()
                if time.monotonic() >= next_poll:
                    self.poll()
                    next_poll = time.monotonic() + self.poll_seconds
        finally:
            self._end_focus(time.time())
            if self._focus_reader is not None:
                self._focus_reader.close()
            self.set_status(STOPPED, self.focus_detail)

    def _report(self) -> None:
        self.set_status(RUNNING, f"{len(self.apps)} apps running; {self.focus_detail}")

    # -- processes -----------------------------------------------------------------------------
    def poll(self, emit_launches: bool = True) -> None:
        """One look at the process table: launches of new apps, closes of finished ones."""
        now = time.time()
        pids = set(psutil.pids())
        if self.own_pid in pids:
            self.clear_problem()
        else:
            self.set_problem(
                f"App capture stopped: the process list ({len(pids)} processes) does not show"
                f" SelFlow itself (pid {self.own_pid}), so it cannot show your apps either"
            )
        for pid in list(self._pid_app):
            if pid not in pids:
                self._gone(pid, now)
        self._ignored &= pids
        self._own &= pids | {self.own_pid}
        for pid in pids:
            if pid in self._pid_app or pid in self._ignored:
                continue
            self._inspect(pid, now, emit_launches)
        self._report()

    def _inspect(self, pid: int, now: float, emit_launches: bool) -> None:
        try:
            p = psutil.Process(pid)
            with p.oneshot():
                if self._is_noise(p) or self._is_own(p):
                    self._ignored.add(pid)
                    return
                created = p.create_time()
                if emit_launches and now - created < self.min_age:
                    return  # too young to tell: look again next poll
                name = p.name()
                try:
                    exe = p.exe() or None
                except (psutil.Error, OSError):
                    exe = None
        except (psutil.Error, OSError):
            self._ignored.add(pid)
            return
        if is_tool(name):
            self._ignored.add(pid)
            return
        self._pid_app[pid] = name
        app = self.apps.get(name)
        if app is None:
            app = self.apps[name] = _App(created, exe=exe, seen_at_start=not emit_launches)
            if emit_launches:
                self._send(
                    Event(
                        ts=created,
                        tz_offset=local_tz_offset(created),
                        source="app",
                        action="launch",
                        app=name,
                        meta={"pid": pid, "exe": exe} if exe else {"pid": pid},
                    )
                )
        app.pids.add(pid)

    def _is_noise(self, p: psutil.Process) -> bool:
        if p.pid == self.own_pid or p.pid <= 2:
            return True
        if self.uid is not None:
            if p.uids().real != self.uid:
                return True  # other users' and the system's processes (kernel threads are root's)
        elif p.username() != self.user:  # Windows: no uids
            return True
        return p.ppid() == 2  # kernel threads (children of kthreadd)

    def _is_own(self, p: psutil.Process) -> bool:
        """SelFlow itself: this process, or one whose command line names SelFlow.

        Not every child: a file "Up next" opens starts the user's app as SelFlow's child.
        (SelFlow's own workers are interpreters, which :func:`is_tool` already leaves out.)
        """
        if p.pid in self._own:
            return True
        try:
            cmdline = p.cmdline()
        except (psutil.Error, OSError):
            return False
        if any(OWN_RE.search(part) for part in cmdline[:4]):
            self._own.add(p.pid)
            return True
        return False

    def _gone(self, pid: int, now: float) -> None:
        name = self._pid_app.pop(pid)
        app = self.apps.get(name)
        if app is None:
            return
        app.pids.discard(pid)
        if app.pids:
            return
        del self.apps[name]
        meta = {"seen_at_start": True} if app.seen_at_start else {}
        self._send(
            Event(
                ts=now,
                tz_offset=local_tz_offset(now),
                source="app",
                action="close",
                app=name,
                duration=max(0.0, now - app.started),
                meta=meta,
            )
        )

    def _send(self, ev: Event) -> None:
        self.saw_event()  # when it was seen (a focus event's ts is its span's start)
        self._emit(ev)

    # -- focus ---------------------------------------------------------------------------------
    def poll_focus(self) -> None:
        try:
            focus = self._focus_reader.read()
        except Exception as exc:  # the X server went away, ...
            log.warning("focus reading stopped: %s", exc)
            self.focus_detail = f"focus unavailable: {exc}"
            self._focus_reader = None
            return
        if focus is not None and (focus.pid in self._own or OWN_RE.search(focus.app)):
            focus = None  # SelFlow's own window is not the user's work
        if focus == self._focus:
            return
        now = time.time()
        self._end_focus(now)
        self._focus, self._focus_since = focus, now

    def _end_focus(self, now: float) -> None:
        prev, since = self._focus, self._focus_since
        if prev is None:
            return
        self._focus = None
        self._send(
            Event(
                ts=since,
                tz_offset=local_tz_offset(since),
                source="app",
                action="focus",
                app=prev.app,
                duration=max(0.0, now - since),
                meta={"pid": prev.pid} if prev.pid else {},
            )
        )
