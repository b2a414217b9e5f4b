"""Serving next-action suggestions: the bandit picks a predictor, every suggestion is logged and
later resolved against what the user really did within ``settings.prediction_horizon_s``.

A suggestion succeeds when its top action happens within the horizon after it was made (see
``actions`` for what "the same action" means). An agent arm is its ranking agent (counts and
trees, refitted in a child process: see ``refit``), so serving never imports torch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selflow_qt.agents.ranking.actions import Candidate, action_key, keyed
from selflow_qt.agents.ranking.predictors import make_baselines
from selflow_qt.agents.ranking.ranking_agent import STATE_FILE, RankingAgent
from selflow_qt.agents.serving.bandit import Bandit
from selflow_qt.agents.serving.model_server import (
    MODEL_WAIT_S,
    ReadyLines,
    ServedModel,
    uses_model,
)
from selflow_qt.agents.serving.refit import HISTORY_EVENTS, REFIT_EVERY, read_history, start_refit
from selflow_qt.core import supervisor
from selflow_qt.core.settings import Settings
from selflow_qt.store.db import open_database
from selflow_qt.store.queries.agents import (
    SuggestionRecord,
    agent_home,
    log_suggestion,
    pending_suggestions,
    resolve_suggestion,
    suggestion_by_id,
)
from selflow_qt.store.queries.events import newest_written, written_after

log = logging.getLogger(__name__)
CONTEXT_EVENTS = 20


@dataclass
class Suggestion:
    kind: str  # file / command / app
    text: str
    path: str | None
    cmd: str | None
    app: str | None
    score: float
    predictor: str  # the bandit arm id
    interaction_id: int
    key: str = ""


def _to_suggestion(c: Candidate, arm: str, interaction_id: int) -> Suggestion:
    ex = c.example
    target = c.key.split(" ", 2)[2] if c.key.count(" ") >= 2 else c.key
    return Suggestion(
        kind=c.kind,
        text=c.text,
        path=(ex.path if ex is not None and ex.path else target) if c.kind == "file" else None,
        cmd=(ex.cmd if ex is not None and ex.cmd else target) if c.kind == "command" else None,
        app=(ex.app if ex is not None and ex.app else target) if c.kind == "app" else None,
        score=float(c.score),
        predictor=arm,
        interaction_id=interaction_id,
        key=c.key,
    )


@dataclass
class _Refit:
    """One loaded ranking agent's refit state: its files' version, events learned since, the
    refit child process (None: none started)."""

    folder: Path
    mtime: float
    learned: int = 0
    child: supervisor.Child | None = None


class SuggestionService:
    """Suggests, logs and resolves next actions for one data folder."""

    def __init__(
        self, data_dir: Path, *, clock: Callable[[], float] = time.time, seed: int | None = None
    ):
        self.data_dir = Path(data_dir)
        self.db = open_database(self.data_dir)
        self.settings = Settings.load(self.data_dir)
        self.clock = clock
        self.bandit = Bandit.load(
            self.db, self.settings.bandit_policy, self.settings.exploration_rate, seed=seed
        )
        self.baselines = make_baselines()
        self._last_id = 0
        self._context: list = []
        self._rankers: dict = {}  # arm id -> RankingAgent, learning every new event
        self._refits: dict[str, _Refit] = {}  # arm id -> when to refit its trees
        self._cache: tuple[int, list[Suggestion]] | None = None
        self._models: dict[str, ServedModel] = {}  # arm id -> its model process (model_server)
        # How long a suggestion waits for its model's answer: the app's live suggestions barely
        # (a ready answer or none); a one-shot `selflow predict` until the model has loaded.
        self.model_wait_s = MODEL_WAIT_S
        # told every batch of new events (keyed, oldest first), e.g. the prompt suggestions
        self.listeners: list[Callable[[list], None]] = []

    # -- the stream ----------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Feed events newer than the last seen one to the baselines and the context."""
        if self._last_id == 0:
            rows = newest_written(self.db, HISTORY_EVENTS)
        else:
            rows = written_after(self.db, self._last_id)
        if not rows:
            return
        self._last_id = max(i for i, _ in rows)
        new = keyed([ev for _, ev in rows])
        next(iter(self.baselines.values())).update(new)  # the baselines share one set of counts
        for arm, agent in self._rankers.items():
            agent.observe(new)
            self._maybe_refit(arm, len(new))
        self._context = (self._context + new)[-CONTEXT_EVENTS:]
        for arm in list(self._models):  # computed as the event arrives: a suggestion reads it
            row = agent_home(arm)
            if row is None or not row.is_active:  # retired meanwhile: its process goes now
                self._retire(arm)
            else:
                self._ask_model(arm)
        for listener in self.listeners:
            listener(new)

    def _predictor(self, arm: str):
        if arm in self.baselines:
            return self.baselines[arm]
        row = agent_home(arm)
        if row is None or not row.is_active:
            self._retire(arm)
            return None
        if not (Path(row.folder) / STATE_FILE).exists():
            return None  # an adapter alone (trained before ranking agents): markov-2 answers
        return self._ranker(arm, Path(row.folder))

    def _ranker(self, arm: str, folder: Path):
        """A ranking agent (no torch): its counts learn the same history as the baselines.
        Reloaded when a refit (see ``refit``) has replaced its files."""
        mtime = (folder / STATE_FILE).stat().st_mtime
        if arm in self._rankers and self._refits[arm].mtime != mtime:
            del self._rankers[arm]
        if arm not in self._rankers:
            history = read_history(self.db, self._last_id)
            self._rankers[arm] = RankingAgent.load(arm, folder, history)
            self._refits[arm] = _Refit(folder, mtime)
            self._serve_model(arm, folder)
        return self._rankers[arm]

    def _serve_model(self, arm: str, folder: Path) -> None:
        """An agent whose model earned a place is served with it, from a model process of its
        own (started once; a refit's reload reattaches it). Any other agent has none."""
        agent = self._rankers[arm]
        if not uses_model(folder, agent.lm_weight, agent.trust):
            old = self._models.pop(arm, None)
            if old is not None:
                old.stop()
            return
        served = self._models.get(arm)
        if served is None or not served.alive:
            served = ServedModel(self.data_dir, folder, want_lines=agent.trust is not None)
            self._models[arm] = served.start()
        agent.lm_scorer = lambda _context, keys: served.scores(self._last_id, keys)
        agent.writer = ReadyLines(served, lambda: self._last_id) if served.want_lines else None
        self._ask_model(arm)

    def _ask_model(self, arm: str) -> None:
        agent = self._rankers.get(arm)
        if agent is None:
            return
        head = agent.base_ranking(self._context, agent.lm_top)
        self._models[arm].ask(self._last_id, self._context, [c.key for c in head])

    def _retire(self, arm: str) -> None:
        """An agent retired (or removed) since it was loaded: its ranker and model process go."""
        self._rankers.pop(arm, None)
        served = self._models.pop(arm, None)
        if served is not None:
            served.stop()

    def close(self) -> None:
        """Stop the model processes (they also end with this process)."""
        for served in self._models.values():
            served.stop()
        self._models.clear()

    def _maybe_refit(self, arm: str, new_events: int) -> None:
        """After REFIT_EVERY new events, refit the agent's trees in a child process."""
        r = self._refits[arm]
        r.learned += new_events
        if r.child is not None and r.child.poll() is not None:
            r.child = None  # finished (reaped); its files are picked up by ``_ranker``
        if r.learned >= REFIT_EVERY and r.child is None:
            r.learned, r.child = 0, start_refit(self.data_dir, r.folder)

    # -- suggesting ----------------------------------------------------------------------------
    def suggest(self, k: int = 5) -> list[Suggestion]:
        """Up to ``k`` next actions from the predictor the bandit picks; logged for resolution."""
        self._refresh()
        if self._cache is not None and self._cache[0] == self._last_id:
            return self._cache[1]  # nothing happened since: the same pending suggestion
        arm = self.bandit.select()
        t0 = time.perf_counter()
        try:
            pred = self._predictor(arm)
        except Exception as exc:  # an agent that cannot load must not break suggestions
            log.warning("agent %s unavailable (%s); using markov-2", arm, exc)
            pred = None
        if pred is None:
            arm, pred = "markov-2", self.baselines["markov-2"]
        if arm in self._models:  # asked when the event arrived; a slow answer is not waited for
            self._models[arm].wait_answer(self._last_id, self.model_wait_s)
        cands = pred.predict(self._context, k)
        latency = (time.perf_counter() - t0) * 1000
        interaction_id = log_suggestion(
            arm,
            self.clock(),
            latency,
            {
                "keys": [c.key for c in cands],
                "texts": [c.text for c in cands],
                "after_event_id": self._last_id,
                "horizon_s": self.settings.prediction_horizon_s,
            },
        )
        out = [_to_suggestion(c, arm, interaction_id) for c in cands]
        self._cache = (self._last_id, out)
        return out

    # -- resolving -----------------------------------------------------------------------------
    def resolve_pending(self) -> int:
        """Resolve pending suggestions against newer events; returns how many were resolved."""
        now = self.clock()
        done = 0
        for it in pending_suggestions():
            data = dict(it.data)
            keys = data.get("keys") or []
            horizon = float(data.get("horizon_s", self.settings.prediction_horizon_s))
            end = it.timestamp + horizon
            rows = written_after(
                self.db, int(data.get("after_event_id", 0)), until_ts=end, system=True
            )
            hit_rank, seconds = None, None
            for _, ev in rows:
                key = action_key(ev)
                if key is not None and key in keys:
                    hit_rank, seconds = keys.index(key) + 1, max(0.0, ev.ts - it.timestamp)
                    if hit_rank == 1:
                        break
            if hit_rank == 1:
                success = True
            elif now > end:
                success = False
            else:
                continue  # still inside the horizon
            data.update(hit_rank=hit_rank, seconds_to_action=seconds, resolved_at=now)
            self._record(it, success, data)
            done += 1
        return done

    def record_choice(self, interaction_id: int, key: str | None = None) -> None:
        """The user picked a suggestion from the tray: a success for the arm that made it."""
        it = suggestion_by_id(interaction_id)
        if it is None or it.success is not None:
            return
        data = {**it.data, "chosen": key or it.data.get("keys", [None])[0]}
        data["resolved_at"] = self.clock()
        self._record(it, True, data)

    def resolve_now(self, interaction_id: int, success: bool) -> None:
        """What the user did next at the prompt resolves a suggestion at once (not by horizon)."""
        it = suggestion_by_id(interaction_id)
        if it is None or it.success is not None:
            return
        data = {**it.data, "resolved_at": self.clock(), "at_prompt": True}
        self._record(it, success, data)

    def _record(self, it: SuggestionRecord, success: bool, data: dict) -> None:
        with self.db.atomic():
            resolve_suggestion(it.id, it.model_id, success, data)
            self.bandit.update(it.model_id, success, it.latency_ms)
