"""Training sessions: queue one, run it in a child process, record what happened.

``TrainingRunner.run`` blocks until the child ends; the session goes queued -> training ->
completed / failed / cancelled, with the error text when it did not complete. A crash, kill or
out-of-memory in the child never reaches the caller as an exception.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from selflow_qt.agents.model.adapters import agents_dir
from selflow_qt.agents.model.dataset import build_examples, data_hash, load_events
from selflow_qt.agents.ranking.actions import keyed
from selflow_qt.agents.serving import registry
from selflow_qt.agents.training.budget import long_run
from selflow_qt.agents.training.child_process import run_training_child, write_job_inputs
from selflow_qt.agents.training.model_verdict import model_record, model_skip
from selflow_qt.core import supervisor
from selflow_qt.core.child import pid_alive
from selflow_qt.core.privacy import redact_text
from selflow_qt.core.settings import Settings
from selflow_qt.store.db import open_database
from selflow_qt.store.files import open_private, private_mkdir, secure_tree
from selflow_qt.store.models import Pattern, TrainingSession

SPLIT_FRACTION = 0.9
MIN_EVENTS = 20


@dataclass
class TrainingProgress:
    session_id: int
    step: int
    total_steps: int
    loss: float
    tokens_per_s: float
    eta_s: float
    epoch: float
    val_loss: float | None = None


@dataclass
class TrainingOutcome:
    session_id: int
    status: str  # completed / failed / cancelled
    model_id: str
    final_loss: float | None = None
    error: str | None = None
    metrics: dict | None = None
    no_adapter: str | None = None  # why no adapter was trained (the model was left out)


def _pattern_events(db, pattern_id: int) -> list[int]:
    from selflow_qt.store.queries.analysis import pattern_event_ids

    return list(pattern_event_ids(db, pattern_id))


def session_events(db, metadata: dict):
    """The events a session trains on: its pattern's, else a workflow's, else all recent ones."""
    pid = metadata.get("pattern_id")
    if pid is not None:
        ids = _pattern_events(db, int(pid))
        if ids:
            return load_events(db, event_ids=ids), f"pattern {pid} ({len(ids)} events)"
    if metadata.get("workflow"):
        wf = metadata["workflow"]
        return load_events(db, workflow=wf), f"workflow {wf!r}"
    return load_events(db), "all recent events"


def queue_training(ctx, pattern_id: int | None = None, *, workflow: str | None = None) -> int:
    """Create a queued training session (the UI's Train button); returns its id."""
    meta: dict = {"reason": "requested"}
    name = "all activity"
    if pattern_id is not None:
        p = Pattern.get_or_none(Pattern.id == pattern_id)
        if p is None:
            raise ValueError(f"no pattern with id {pattern_id}")
        meta.update(pattern_id=pattern_id, pattern_name=p.name)
        name = p.name
    if workflow:
        meta["workflow"] = workflow
        name = workflow
    events, source = session_events(ctx.db, meta)
    h = data_hash(build_examples(events))[:8]
    tag = f"p{pattern_id}" if pattern_id is not None else (f"w-{workflow}" if workflow else "all")
    meta.update(data_source=source, specialization=name)
    row = TrainingSession.create(
        model_id=f"agent-{tag}-{h}", status="queued", training_data_size=len(events), metadata=meta
    )
    return row.id


def reset_stale_sessions(data_dir: Path | None = None) -> list[int]:
    """Sessions left "training" by a runner that is gone (killed, crashed, power cut) become
    failed ("interrupted"), so their pattern can be queued again; their job folders go.

    Call at start (the runner does before each run). Returns the ids it reset.
    """
    reset = []
    for row in TrainingSession.select().where(TrainingSession.status == "training"):
        meta = dict(row.metadata or {})
        if pid_alive(meta.get("runner_pid")):
            continue
        meta["error"] = "interrupted: the training process ended before the session finished"
        row.status, row.completed_at, row.metadata = "failed", time.time(), meta
        row.save()
        reset.append(row.id)
        if data_dir is not None:
            shutil.rmtree(agents_dir(data_dir) / ".jobs" / str(row.id), ignore_errors=True)
    return reset


def next_queued_session(db) -> int | None:
    """The oldest queued session. Sessions a dead runner left "training" are reset first, so
    the queue (and the specialization step) never waits on them."""
    reset_stale_sessions()
    row = (
        TrainingSession.select(TrainingSession.id)
        .where(TrainingSession.status == "queued")
        .order_by(TrainingSession.id)
        .first()
    )
    return row.id if row else None


class TrainingRunner:
    """Runs queued training sessions of one data folder in child processes."""

    def __init__(self, data_dir: Path, *, python: str | None = None, env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.python = python or sys.executable
        self.env = env
        self.child_pid: int | None = None
        self._child: supervisor.Child | None = None

    def _set(self, session_id: int, **fields) -> None:
        meta_update = fields.pop("meta", None)
        row = TrainingSession.get_by_id(session_id)
        for k, v in fields.items():
            setattr(row, k, v)
        if meta_update:
            row.metadata = {**(row.metadata or {}), **meta_update}
        row.save()

    def run(
        self,
        session_id: int,
        on_progress: Callable[[TrainingProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        max_steps: int | None = None,
    ) -> TrainingOutcome:
        db = open_database(self.data_dir)
        settings = Settings.load(self.data_dir)
        row = TrainingSession.get_by_id(session_id)
        model_id = row.model_id
        meta = dict(row.metadata or {})
        job_dir = agents_dir(self.data_dir) / ".jobs" / str(session_id)
        out_dir = agents_dir(self.data_dir) / model_id
        reset_stale_sessions(self.data_dir)
        self._set(
            session_id,
            status="training",
            started_at=time.time(),
            completed_at=None,
            meta={"runner_pid": os.getpid()},
        )
        try:
            job = self._prepare(
                db, settings, session_id, model_id, meta, job_dir, out_dir, max_steps
            )
        except Exception as exc:  # bad data or no base model: a failed session, not a crash
            return self._finish_failed(session_id, model_id, str(exc), out_dir, job_dir)
        return self._supervise(
            session_id, model_id, meta, job, job_dir, out_dir, on_progress, should_stop, settings
        )

    def _prepare(self, db, settings, session_id, model_id, meta, job_dir, out_dir, max_steps):
        from selflow_qt.agents.model.base_model import resolve_base_model

        spec = resolve_base_model(settings, self.data_dir)
        events, source = session_events(db, meta)
        stream = keyed(events)
        if len(stream) < MIN_EVENTS:
            raise ValueError(
                f"not enough activity to train on: {len(stream)} actions in {source} "
                f"(at least {MIN_EVENTS} are needed)"
            )
        split_ts = stream[int(len(stream) * SPLIT_FRACTION)][0].ts
        shutil.rmtree(job_dir, ignore_errors=True)
        private_mkdir(agents_dir(self.data_dir))
        private_mkdir(job_dir.parent)
        private_mkdir(job_dir)
        events_path, config = write_job_inputs(events, job_dir, settings, max_steps)
        skipped, verdict = model_skip(meta.get("pattern_id"), len(events), meta.get("workflow"))
        meta.update(lm_skipped=skipped, lm_verdict=verdict, lm_judged_size=len(events))
        long = long_run(max_steps)
        job = {
            "session_id": session_id,
            "model_id": model_id,
            "data_dir": str(self.data_dir),
            "events_path": str(events_path),
            "split_ts": split_ts,
            "config": config,
            "out_dir": str(out_dir),
            "work_dir": str(job_dir),
            "base_model": asdict(spec),
            # A short run (tests, self-test, a quick try) gets a shorter offline evaluation and
            # fewer positions weighing the LM (each one a scoring by the model: ~1 s on 2 cores).
            "eval_positions": settings.eval_positions or (100 if long else 30),
            "lm_positions": (60 if long else 12)
            if settings.lm_positions is None
            else settings.lm_positions,
            "pattern_id": meta.get("pattern_id"),
            "specialization": meta.get("specialization") or meta.get("pattern_name") or "",
            "lm_skipped": skipped,
            "convert": long,
        }
        with open_private(job_dir / "job.json") as fh:
            fh.write(json.dumps(job))
        self._set(
            session_id,
            training_data_size=len(events),
            meta={"data_source": source, "base_model": spec.description, "config": config},
        )
        return job

    def _supervise(
        self, session_id, model_id, meta, job, job_dir, out_dir, on_progress, should_stop, settings
    ):
        def on_message(msg: dict) -> None:
            if msg.get("event") == "progress" and on_progress is not None:
                fields = {k: msg.get(k) for k in TrainingProgress.__dataclass_fields__}
                fields["session_id"] = session_id
                on_progress(TrainingProgress(**fields))

        def on_start(child: supervisor.Child) -> None:
            self._child, self.child_pid = child, child.pid

        child = run_training_child(
            job_dir / "job.json",
            on_message=on_message,
            should_stop=should_stop,
            on_start=on_start,
            python=self.python,
            env=self.env,
        )
        self._child = None
        if child.cancelled:
            return self._finish_failed(
                session_id, model_id, child.error(), out_dir, job_dir, "cancelled", child.last_loss
            )
        if not child.ok:
            return self._finish_failed(
                session_id,
                model_id,
                child.error(),
                out_dir,
                job_dir,
                "failed",
                child.last_loss,
                child.stderr_tail,
            )
        return self._finish_completed(
            session_id, model_id, meta, child.result, out_dir, job_dir, settings
        )

    def cancel(self) -> None:
        """Stop the running child (SIGTERM; it stops between steps and saves nothing)."""
        if self._child is not None:
            self._child.cancel()

    def _finish_failed(
        self, session_id, model_id, error, out_dir, job_dir, status="failed", loss=None, tail=""
    ):
        from selflow_qt.store.models import MicroAgent

        # A partial adapter must never become active.
        if MicroAgent.get_or_none(MicroAgent.model_id == model_id) is None:
            shutil.rmtree(out_dir, ignore_errors=True)
        self._set(
            session_id,
            status=status,
            completed_at=time.time(),
            final_loss=loss,
            meta={"error": redact_text(error), "stderr_tail": redact_text(tail[-1500:])},
        )
        registry.notify(
            "training",
            f"Training {'cancelled' if status == 'cancelled' else 'failed'}: {model_id}",
            error,
            {"session_id": session_id, "model_id": model_id, "status": status},
        )
        # Nothing of a job stays behind (its events file may hold old, unredacted text).
        shutil.rmtree(job_dir, ignore_errors=True)
        secure_tree(agents_dir(self.data_dir))
        return TrainingOutcome(session_id, status, model_id, loss, error)

    def _finish_completed(self, session_id, model_id, meta, result, out_dir, job_dir, settings):
        spec = meta.get("specialization") or meta.get("pattern_name") or ""
        registry.record_agent(model_id, out_dir, result, spec)
        # A retrain (analyze.specialize: the pattern gained events) replaces its pattern's agent.
        replaced = [a for a in [meta.get("retrains")] if a and a != model_id]
        registry.retire(replaced)
        retired = replaced + registry.enforce_max_active(settings.max_models)
        training = result.get("training", {})
        metrics = result.get("metrics", {})
        self._set(
            session_id,
            status="completed",
            completed_at=time.time(),
            final_loss=training.get("final_loss"),
            meta={
                "metrics": metrics,
                "training": training,
                "retired": retired,
                "error": None,
                "lm": model_record(meta, result),
            },
        )
        own = metrics.get(model_id, {})
        best_base = max(
            (m for n, m in metrics.items() if n != model_id),
            key=lambda m: m.get("mrr", 0),
            default={},
        )
        registry.notify(
            "training",
            f"Agent trained: {model_id}",
            f"hit@1 {own.get('hit1', 0):.2f} (best baseline {best_base.get('hit1', 0):.2f}), "
            f"MRR {own.get('mrr', 0):.2f}, {training.get('seconds', 0):.0f}s",
            {"session_id": session_id, "model_id": model_id, "status": "completed"},
        )
        shutil.rmtree(job_dir, ignore_errors=True)
        secure_tree(agents_dir(self.data_dir))
        secure_tree(self.data_dir / "models")
        return TrainingOutcome(
            session_id,
            "completed",
            model_id,
            training.get("final_loss"),
            None,
            metrics,
            no_adapter=meta.get("lm_skipped"),
        )
