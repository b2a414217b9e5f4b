"""Next-command suggestions at the shell prompt, served from a ready file.

``PromptServer`` runs beside the collectors (the app or ``selflow collect``). When events have been
written it asks the serving path (``SuggestionService``: the bandit's pick among the agents and
baselines) for the next actions and writes, for each shell session that ran a command, a file of
whole command lines, best first (the predicted commands, then the session's history newest
first): ``<data>/shell/suggest.<session>`` (and ``suggest`` for shells that have not run one yet).
The shell hooks (``collect.shell_hook_scripts``) read that file with builtins only: zsh shows the
first line that extends what is typed as ghost text, bash and fish put it on the command line at
a key. So a suggestion costs the shell a file read, never a process.

The next command a session runs resolves the suggestion shown to it at once: accepted or typed as
shown is a success for the arm that made it, anything else a miss (``SuggestionService.resolve_now``).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from selflow_qt.agents.ranking.line_scorer import LineScorer
from selflow_qt.agents.ranking.prompt import ShellHistory, event_line
from selflow_qt.agents.serving.serving import SuggestionService

log = logging.getLogger(__name__)

SUGGEST_FILE = "suggest"  # + ".<session>" per shell session
MAX_LINES = 200  # history lines after the predictions, for prefixes the predictions miss
PREDICTIONS = 10
SESSION_LINES = 50  # a shell's own last lines kept, for its context
SCORED_LINES = 10  # the scorer's lines at an empty prompt (then its best per first word)
RECENT_SESSION_S = 3600.0


def suggestion_file(spool_dir: Path, session: str | None = None) -> Path:
    return spool_dir / (f"{SUGGEST_FILE}.{session}" if session else SUGGEST_FILE)


def write_lines(path: Path, lines: list[str]) -> None:
    """Replace ``path`` atomically (a shell never reads half a file), readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as fh:
        fh.write("".join(f"{line}\n" for line in lines))
    os.replace(tmp, path)


class PromptSuggestions:
    """Keeps every shell session's suggestion file up to date; call ``refresh`` after writes."""

    def __init__(self, service: SuggestionService, spool_dir: Path) -> None:
        self.service = service
        self.spool_dir = Path(spool_dir)
        self.history = ShellHistory()
        self.scorer = LineScorer()
        self._predicted: list[str] = []
        self.places: dict[str, tuple[list[str], str | None]] = {}  # session -> (lines, folder)
        self.pending: dict[str, tuple[int, str]] = {}  # session -> (interaction id, top line)
        self._changed: set[str] = set()
        self._first = True
        service.listeners.append(self._on_events)

    def _on_events(self, new: list) -> None:
        for ev, _key in new:
            line = event_line(ev)
            if not line:
                continue
            self.history.add(line)
            session = (ev.meta or {}).get("session")
            self.scorer.observe(
                line, folder=ev.cwd, session=session, ts=ev.ts, agent_rank=self._agent_rank()
            )
            if not session or (self._first and ev.ts < self.service.clock() - RECENT_SESSION_S):
                continue  # at start, only shells that ran a command lately get a file
            session = str(session)
            lines = self.places.get(session, ([], None))[0][-SESSION_LINES + 1 :]
            self.places[session] = ([*lines, line], ev.cwd)
            self._changed.add(session)
            shown = self.pending.pop(session, None)
            if shown is not None:  # what the user did next resolves what this shell showed
                self.service.resolve_now(shown[0], line == shown[1])

    def refresh(self) -> list[str]:
        """Recompute after new events; returns the sessions whose file was rewritten."""
        suggestions = self.service.suggest(PREDICTIONS)
        first, self._first = self._first, False
        if not self._changed and not first:
            return []
        predicted = [s.cmd.strip() for s in suggestions if s.kind == "command" and s.cmd]
        self._predicted = predicted
        sessions, self._changed = sorted(self._changed), set()
        try:
            self.spool_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_lines(suggestion_file(self.spool_dir), self._lines(predicted))
            for session in sessions:
                write_lines(
                    suggestion_file(self.spool_dir, session), self._lines(predicted, session)
                )
        except OSError as exc:  # a full disk: the shells keep their last file
            log.warning("could not write the prompt suggestions: %s", exc)
            return []
        if suggestions and predicted:
            for session in sessions:
                self.pending[session] = (suggestions[0].interaction_id, predicted[0])
        return sessions

    def _agent_rank(self):
        """The serving path's ranking of a line (the bandit's arm), a feature of the scorer."""
        ranks = {line: 1.0 / (i + 1) for i, line in reversed(list(enumerate(self._predicted)))}
        return lambda line: ranks.get(line, 0.0)

    def scored_lines(self, session: str | None = None) -> list[str]:
        """The scorer's best lines at an empty prompt, then its best for each first word: the
        shell shows the first line that extends what is typed. For a ``session``, ranked from
        its own last lines and folder (several shells open: each gets its own)."""
        rank = self._agent_rank()
        if session not in self.places:
            return self.scorer.ready_lines(SCORED_LINES, rank)
        lines, folder = self.places[session]
        with self.scorer.seen_from(lines, folder) as scorer:
            return scorer.ready_lines(SCORED_LINES, rank)

    def _lines(self, predicted: list[str], session: str | None = None) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        own = reversed(self.places[session][0]) if session in self.places else ()
        for line in [
            *self.scored_lines(session),
            *predicted,
            *own,
            *self.history.newest_first(),
        ]:
            if line in seen or "\n" in line or "\r" in line:
                continue
            seen.add(line)
            out.append(line)
            if len(out) >= MAX_LINES:
                break
        return out


class PromptServer:
    """A thread that refreshes the prompt suggestions whenever the event writer committed."""

    def __init__(self, data_dir: Path, spool_dir: Path, *, interval: float = 0.1) -> None:
        self.data_dir = Path(data_dir)
        self.spool_dir = Path(spool_dir)
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshes = 0

    def notify(self, *_args) -> None:
        """Events were written (the event writer's flush callback)."""
        self._wake.set()

    def start(self) -> PromptServer:
        self._thread = threading.Thread(target=self._run, name="selflow-prompt", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _hooked(self) -> bool:
        """Whether any shell has the hook (a spool file): until then nothing is loaded."""
        try:
            return any(p.suffix == ".spool" for p in self.spool_dir.iterdir())
        except OSError:
            return False

    def _run(self) -> None:
        while not self._hooked():
            if self._stop.wait(2.0):
                return
        try:
            prompt = PromptSuggestions(SuggestionService(self.data_dir), self.spool_dir)
        except Exception:
            log.exception("prompt suggestions unavailable")
            return
        self._wake.set()  # a first file at start
        try:
            while not self._stop.is_set():
                self._wake.wait(5.0)
                if self._stop.is_set():
                    return
                self._wake.clear()
                try:
                    prompt.refresh()
                    self.refreshes += 1
                except Exception:  # a damaged agent or database must not stop the collectors
                    log.exception("prompt suggestions not refreshed")
                self._stop.wait(self.interval)
        finally:
            prompt.service.close()  # its model processes, if an agent is served with its model


def serve_prompt(service) -> PromptServer | None:
    """Start the prompt suggestions beside a ``CollectionService`` that reads the shell hooks
    (None when it does not, or when ``prompt_suggestions`` is off)."""
    from selflow_qt.collect.shell_spool import spool_dir_for

    if not service.has_collector("shell-hook") or not service.settings.prompt_suggestions:
        return None
    server = PromptServer(service.data_dir, spool_dir_for(service.data_dir)).start()
    service.flush_listeners.append(server.notify)
    return server
