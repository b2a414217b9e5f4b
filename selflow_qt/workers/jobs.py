"""Jobs that wrap the pure pipeline for Workers: each takes plain inputs and returns plain data.

Feature modules are imported inside the jobs, so the app starts (and says what is missing)
even when a part is absent, and heavy libraries load only when a job needs them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selflow_qt.collect.base import problem_lines
from selflow_qt.core.format import count
from selflow_qt.store.context import StoreContext
from selflow_qt.store.queries.events import event_count, last_event_id

log = logging.getLogger(__name__)

Progress = Callable[[Any], None]
ShouldStop = Callable[[], bool]


# -- dashboard and tray reads -------------------------------------------------------------------
def tray_snapshot_job(ctx: StoreContext):
    from selflow_qt.agents.serving.leaderboard import active_agent_lines, agent_ranking
    from selflow_qt.store.queries.tray import tray_snapshot

    snap = tray_snapshot(ctx.db, ctx.settings.budget_bytes)
    snap.agents = active_agent_lines(agent_ranking(ctx.db, ctx.settings)[0])
    return snap


@dataclass
class DashboardData:
    """What the Live Dashboard draws, read in one go on a worker."""

    by_hour: dict[str, list[int]]
    file_ops: dict[str, int]
    focus_seconds: float
    workflows: dict
    efficiency: object  # queries.Efficiency
    events_today: int
    top_apps: list[tuple[str, int]] = field(default_factory=list)
    date: str = ""


def dashboard_job(ctx: StoreContext) -> DashboardData:
    from selflow_qt.store.queries import tray as q

    day = q.local_day()
    return DashboardData(
        by_hour=q.events_today_by_hour(ctx.db, day),
        file_ops=q.file_ops_today(ctx.db, day),
        focus_seconds=q.focus_time_today(ctx.db, day),
        workflows=q.workflows_today(ctx.db, day),
        efficiency=q.efficiency_today(ctx.db, day),
        events_today=q.events_today(ctx.db, day),
        top_apps=q.top_apps_today(ctx.db, day),
        date=day.date,
    )


# -- first run ----------------------------------------------------------------------------------
@dataclass
class FirstRun:
    """What the welcome window shows: whether this is a first start, and what it may import."""

    needed: bool
    histories: list[tuple[str, int]] = field(default_factory=list)  # path, commands (about)
    activitywatch: str | None = None  # the URL of a running aw-server
    events: int = 0


AW_URL = "http://localhost:5600"


def first_run_job(ctx: StoreContext, probe_aw: bool = True) -> FirstRun:
    """A first start is a data folder with no events whose welcome was never done."""
    from selflow_qt.collect.shell_history import default_history_files

    events = event_count(ctx.db)
    needed = not ctx.settings.welcome_done and events == 0
    if not needed:
        return FirstRun(False, events=int(events))
    histories = []
    for path in default_history_files():
        try:
            with open(path, "rb") as fh:
                commands = _count_commands(fh, fish="fish" in path.name)
        except OSError:
            continue
        histories.append((str(path), commands))
    return FirstRun(True, histories, activitywatch_url() if probe_aw else None, events=int(events))


def _count_commands(lines, fish: bool) -> int:
    """About how many commands a history holds (bash time stamps and fish metadata not counted)."""
    if fish:
        return sum(1 for ln in lines if ln.startswith(b"- cmd:"))
    return sum(
        1 for ln in lines if ln.strip() and not (ln[:1] == b"#" and ln[1:].strip().isdigit())
    )


def activitywatch_url(url: str = AW_URL, timeout_s: float = 0.5) -> str | None:
    """``url`` when an aw-server answers there (no proxy, a short timeout), else None."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url.rstrip("/") + "/api/0/info", timeout=timeout_s) as resp:
            return url if resp.status == 200 else None
    except (OSError, ValueError):
        return None


# -- training -----------------------------------------------------------------------------------
@dataclass
class TrainingStart:
    """Emitted as a partial result once the session to train is known."""

    session_id: int


def training_job(
    ctx: StoreContext,
    session_id: int | None = None,
    max_steps: int | None = None,
    progress: Progress | None = None,
    partial: Progress | None = None,
    should_stop: ShouldStop | None = None,
):
    """Train one queued session (the next one if ``session_id`` is None) in a child process."""
    from selflow_qt.agents.training import runner as runner_mod

    if session_id is None:
        session_id = runner_mod.next_queued_session(ctx.db)
        if session_id is None:
            return None
    if partial is not None:
        partial(TrainingStart(int(session_id)))
    runner = runner_mod.TrainingRunner(ctx.data_dir)
    return runner.run(
        int(session_id), on_progress=progress, should_stop=should_stop, max_steps=max_steps
    )


def queue_training_job(ctx: StoreContext, pattern_id: int | None = None) -> int:
    from selflow_qt.agents.training import runner as runner_mod

    return int(runner_mod.queue_training(ctx, pattern_id=pattern_id))


def retire_agent_job(ctx: StoreContext, model_id: str) -> str:
    """Mark a micro-agent inactive (its adapter stays on disk)."""
    from selflow_qt.agents.serving import registry

    registry.retire_agent(ctx, model_id)
    return model_id


def note_training(outcome) -> str:
    """Record a notification for a finished/failed training unless one exists; the summary line."""
    from selflow_qt.store.queries.notifications import add_notification, notified_today_about

    status = getattr(outcome, "status", "")
    sid = getattr(outcome, "session_id", None)
    title = {
        "completed": "Training finished",
        "failed": "Training failed",
        "cancelled": "Training cancelled",
    }.get(status, f"Training {status}")
    body = f"{getattr(outcome, 'model_id', '') or f'session {sid}'}"
    loss = getattr(outcome, "final_loss", None)
    if status == "completed" and loss is not None:
        body += f": final loss {loss:.3f}"
    if status == "failed":
        body += f": {getattr(outcome, 'error', '')}"
    if not notified_today_about("session_id", sid):
        add_notification("training", title, body, {"session_id": sid, "status": status})
    return f"{title}: {body}"


# -- predictions --------------------------------------------------------------------------------
class SuggestionsJob:
    """Holds one SuggestionService (it caches loaded predictors); used by one worker at a time."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._service = None
        self._last_event_id: int | None = None
        self.last_resolved = 0

    def service(self):
        if self._service is None:
            from selflow_qt.agents.serving import serving

            self._service = serving.SuggestionService(self.data_dir)
        return self._service

    def refresh(self, k: int = 5, force: bool = False) -> list | None:
        """Resolve old suggestions; suggest anew only if events arrived (None: keep the current).

        Every suggestion shown is logged for the bandit, so an idle machine must not log the
        same guesses every minute.
        """
        svc = self.service()
        self.last_resolved = 0  # outcomes scored by this call (the bandit learned from them)
        try:
            self.last_resolved = int(svc.resolve_pending() or 0)
        except Exception:  # resolving old outcomes must not hide new suggestions
            log.exception("resolving pending suggestions failed")
        latest = self._latest_event_id()
        if not force and latest is not None and latest == self._last_event_id:
            return None
        self._last_event_id = latest
        return list(svc.suggest(k=k))

    def _latest_event_id(self) -> int | None:
        from selflow_qt.store.db import connect, db_path_for

        db = connect(db_path_for(self.data_dir))
        try:
            return last_event_id(db)
        finally:
            db.close()

    def record_choice(self, interaction_id: int) -> int:
        self.service().record_choice(interaction_id)
        return interaction_id


# -- imports ------------------------------------------------------------------------------------
@dataclass
class ImportReport:
    """What one drop or import did, per path."""

    imported: dict[str, int] = field(default_factory=dict)  # path -> events written
    details: dict[str, str] = field(default_factory=dict)  # path -> the importer's summary
    watched: list[str] = field(default_factory=list)  # folders added as watch roots
    errors: dict[str, str] = field(default_factory=dict)  # path -> message
    took_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.imported.values())


def import_job(
    ctx: StoreContext,
    paths: list[str],
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> ImportReport:
    """Import each path by what its content is; folders become watched roots.

    An aw-server URL is imported as ActivityWatch. A file that is none of the importable kinds
    (a picture, a PDF) is reported as such, never turned into a watched folder.
    """
    from selflow_qt.workers.importing import ACTIVITYWATCH, import_one, sniff_kind

    t0 = time.perf_counter()
    report = ImportReport()
    for raw in paths:
        if should_stop is not None and should_stop():
            break
        if raw.startswith(("http://", "https://")):
            path, kind = raw, ACTIVITYWATCH
        else:
            path = Path(raw).expanduser()
            kind = sniff_kind(path)
        if kind is None:
            if path.is_dir():
                report.watched.append(str(path))
            else:
                report.errors[str(path)] = (
                    "not an importable file (JSON Lines events, an ActivityWatch export or a "
                    "shell history)"
                )
            continue

        def step(done: int, total: int, _p: str = str(path)) -> None:
            if progress is not None and total:
                progress((_p, done, total))

        try:
            result = import_one(ctx, path, kind, progress=step)
            report.imported[str(path)] = int(result.imported)
            report.details[str(path)] = result.summary()
        except Exception as exc:  # one bad file must not stop the others
            report.errors[str(path)] = f"{type(exc).__name__}: {exc}"
    if report.watched:
        add_watch_roots(ctx, report.watched)
    report.took_s = time.perf_counter() - t0
    return report


def add_watch_roots(ctx: StoreContext, paths: list[str]) -> list[str]:
    """Add folders (a file adds its folder) to the watched roots and save the settings."""
    roots = list(ctx.settings.watch_roots)
    for raw in paths:
        p = Path(raw).expanduser().resolve()
        folder = str(p if p.is_dir() else p.parent)
        if folder not in roots:
            roots.append(folder)
    ctx.settings.watch_roots = roots
    ctx.settings.save(ctx.data_dir)
    return roots


# -- collection ---------------------------------------------------------------------------------
@dataclass
class CollectionState:
    """The collection service's state as the status bar and tray show it."""

    running: bool
    written: int = 0
    queued: int = 0
    collectors: list[tuple[str, str, str]] = field(default_factory=list)  # name, state, detail
    error: str = ""
    writer_problem: str = ""  # events cannot be saved (a full disk, a read-only folder, ...)

    @property
    def problems(self) -> list[str]:
        """One line per collector that stopped seeing events, saying which and why; first, why
        events cannot be saved, if they cannot."""
        lines = problem_lines(self.collectors)
        if self.writer_problem:
            lines = [f"Events not saved: {self.writer_problem}", *lines]
        return [f"Collection stopped: {self.error}", *lines] if self.error else lines

    def summary(self) -> str:
        """The one line the tray, the status bar and the Live Dashboard show: a problem first."""
        problems = self.problems
        if problems:
            more = len(problems) - 1
            return problems[0] + (f" (and {count(more, 'more problem')})" if more else "")
        if not self.running:
            return "Collection: stopped"
        names = ", ".join(n for n, _s, _d in self.collectors) or "no collector enabled"
        return f"Collection: running ({names}), {count(self.written, 'event')} written"


def collection_job(
    ctx: StoreContext,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    report_every_s: float = 5.0,
) -> CollectionState:
    """Run the collectors until ``should_stop``; reports their state every few seconds."""
    from selflow_qt.collect import service as service_mod

    service = service_mod.CollectionService(ctx)

    def state(running: bool) -> CollectionState:
        return CollectionState(
            running=running,
            written=service.stats.written,
            queued=service.writer.queued,
            collectors=[(h.name, h.state, h.detail) for h in service.health()],
            writer_problem=service.writer.health().problem,
        )

    from selflow_qt.agents.serving.prompt_serving import serve_prompt

    service.start()
    prompt = serve_prompt(service)  # next-command suggestions for the shell hooks
    next_report = 0.0
    try:
        while not (should_stop is not None and should_stop()):
            if progress is not None and time.monotonic() >= next_report:
                progress(state(True))
                next_report = time.monotonic() + report_every_s
            service.wait(0.25)
    finally:
        service.stop()  # flushes every queued event before the job ends
        if prompt is not None:
            prompt.stop()
    final = state(False)
    if progress is not None:
        progress(final)
    return final
