"""`selflow --self-test`: a smoke test of an install (source checkout or bundle), no display needed.

In a fresh data folder it imports a JSONL export of the demo data, runs one analysis cycle in
process (as `selflow analyze`) and one in the spawned analysis process (as the tray), trains a LoRA
agent for a few real steps on the bundled base model, asks for a next-action suggestion (as
`selflow predict` and the tray) and renders the main window offscreen. It prints one PASS/FAIL
line per step and returns 0 only if every step passed.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

DEMO_DAYS = 2
DEMO_SEED = 0
DEMO_EVENTS_PER_DAY = 600  # small: the held-out part the new agent is scored on stays short
TRAINING_STEPS = 3
# module -> distribution: imported, then its version read from the metadata the bundle carries
HEAVY_LIBRARIES = {
    "torch": "torch",
    "transformers": "transformers",
    "peft": "peft",
    "gguf": "gguf",
    "sklearn": "scikit-learn",
    "hdbscan": "hdbscan",
    "umap": "umap-learn",
    "numba": "numba",
    "ctranslate2": "ctranslate2",  # the served model's runtime (agents.model.fast_runtime)
}
CHECKED_METADATA = ("tokenizers", "safetensors", "accelerate", "huggingface-hub")


class StepSkipped(RuntimeError):
    """A step could not run because an earlier one failed."""


@dataclass
class StepResult:
    """One line of the report."""

    name: str
    passed: bool
    seconds: float
    detail: str

    def line(self) -> str:
        word = "PASS" if self.passed else "FAIL"
        return f"{word} {self.name:<16} {self.seconds:7.1f} s  {self.detail}"


@dataclass
class SelfTestRun:
    """What the steps share: the data folder and what earlier steps produced."""

    data_dir: Path
    imported: int = 0
    cycle: Any = None  # analyze.cycle.CycleResult
    outcome: Any = None  # agents.training.runner.TrainingOutcome
    results: list[StepResult] = field(default_factory=list)


def step_libraries(run: SelfTestRun) -> str:
    """The heavy libraries import, their metadata is there, and the base model file is found."""
    import importlib
    import importlib.metadata

    versions = []
    for name, dist in HEAVY_LIBRARIES.items():
        importlib.import_module(name)
        versions.append(f"{name} {importlib.metadata.version(dist)}")
    for dist in CHECKED_METADATA:  # transformers and peft check these versions at run time
        importlib.metadata.version(dist)
    from selflow_qt.agents.model.base_model import resolve_base_model
    from selflow_qt.core.settings import Settings

    spec = resolve_base_model(Settings.load(run.data_dir), run.data_dir)
    if spec.kind != "gguf":
        raise AssertionError(f"expected the bundled GGUF base model, got {spec.description}")
    where = Path(str(spec.location))
    size = f" ({where.stat().st_size >> 20} MB)" if where.is_file() else ""
    return f"{', '.join(versions)}; base model: {spec.kind} {where.name}{size}"


def step_demo_import(run: SelfTestRun) -> str:
    """Write the demo into a scratch store, export it as JSONL and import that file."""
    from selflow_qt.collect.export import export_to
    from selflow_qt.collect.importers import import_file
    from selflow_qt.demo.generator import write_demo
    from selflow_qt.store.context import StoreContext
    from selflow_qt.store.queries.events import event_count

    source = StoreContext.open(run.data_dir / "demo-source")
    try:
        written = write_demo(
            source, days=DEMO_DAYS, seed=DEMO_SEED, events_per_day=DEMO_EVENTS_PER_DAY
        )
        export = run.data_dir / "demo.jsonl"
        exported = export_to(source.db, export)
    finally:
        source.close()
    if exported != written:
        raise AssertionError(f"wrote {written} demo events but exported {exported}")
    ctx = StoreContext.open(run.data_dir)
    try:
        report = import_file(ctx, "jsonl", export)
        stored = event_count(ctx.db)
    finally:
        ctx.close()
    if report.imported == 0 or stored != report.imported:
        raise AssertionError(f"{report.summary()}; but the store holds {stored} events")
    run.imported = report.imported
    return f"{DEMO_DAYS} demo days: {written} events exported, {report.summary()}"


def step_analysis(run: SelfTestRun) -> str:
    """One analysis cycle over the imported events finds at least one pattern."""
    if not run.imported:
        raise StepSkipped("no imported events (demo-import failed)")
    from selflow_qt.analyze.cycle import run_cycle
    from selflow_qt.store.context import StoreContext

    stages: list[str] = []

    def progress(stage: str, _fraction: float) -> None:
        if not stages or stages[-1] != stage:
            stages.append(stage)

    ctx = StoreContext.open(run.data_dir)
    try:
        result = run_cycle(ctx, trigger="manual", progress=progress)
    finally:
        ctx.close()
    run.cycle = _checked_cycle(result)
    return _cycle_summary(result, stages)


def step_analysis_process(run: SelfTestRun) -> str:
    """One analysis cycle in the spawned analysis process (analyze.service), the tray's way: in a
    bundle that child is the frozen executable started again, and it starts the clusterers'."""
    if not run.imported:
        raise StepSkipped("no imported events (demo-import failed)")
    from selflow_qt.analyze.service import AnalysisService
    from selflow_qt.core.settings import Settings

    stages: list[str] = []

    def progress(p: tuple) -> None:
        if not stages or stages[-1] != p[0]:
            stages.append(p[0])

    service = AnalysisService(run.data_dir)
    try:
        result = service.run("cycle", Settings.load(run.data_dir), progress=progress)
        if not service.alive:
            raise AssertionError("the analysis process was not running after its cycle")
    finally:
        service.close()
    run.cycle = _checked_cycle(result)
    return "in the analysis process: " + _cycle_summary(result, stages)


def _checked_cycle(result: Any) -> Any:
    """The cycle result, if every clusterer ran and it found a pattern."""
    failed = {name: a.error for name, a in result.algorithms.items() if a.error}
    if failed:  # in a bundle, usually a clusterer's child process that could not start
        name, error = next(iter(failed.items()))
        raise AssertionError(f"{len(failed)} clusterers failed, first {name}: {error}")
    if not result.patterns:
        raise AssertionError(f"run {result.run_id} found no patterns")
    return result


def _cycle_summary(result: Any, stages: list[str]) -> str:
    names = ", ".join(p.name for p in result.patterns[:4])
    return (
        f"run {result.run_id}: {result.n_events} events, {len(result.algorithms)} clusterers, "
        f"{len(result.patterns)} patterns ({names}), consensus {result.consensus_score:.2f}, "
        f"{len(stages)} stages"
    )


def step_training(run: SelfTestRun) -> str:
    """A few real LoRA steps on the base model, in the training child process."""
    if run.cycle is None:
        raise StepSkipped("no analysis result (analysis failed)")
    from selflow_qt.agents.training.runner import TrainingRunner, queue_training
    from selflow_qt.store.context import StoreContext

    session_id = run.cycle.queued_sessions[0] if run.cycle.queued_sessions else None
    if session_id is None:
        ctx = StoreContext.open(run.data_dir)
        try:
            session_id = queue_training(ctx, pattern_id=run.cycle.patterns[0].pattern_id)
        finally:
            ctx.close()
    steps: list[Any] = []
    outcome = TrainingRunner(run.data_dir).run(
        session_id, on_progress=steps.append, should_stop=None, max_steps=TRAINING_STEPS
    )
    run.outcome = outcome
    if outcome.status != "completed":
        raise AssertionError(f"session {session_id} {outcome.status}: {outcome.error}")
    if not steps or outcome.final_loss is None or not math.isfinite(outcome.final_loss):
        raise AssertionError(f"no progress or no finite loss (final_loss={outcome.final_loss})")
    last = steps[-1]
    return (
        f"session {session_id}: {last.step}/{last.total_steps} steps, "
        f"loss {outcome.final_loss:.3f}, {last.tokens_per_s:.0f} tokens/s, "
        f"model {outcome.model_id}"
    )


def step_suggestion(run: SelfTestRun) -> str:
    """Next-action suggestions now, as `selflow predict` and the tray ask for them, with the new
    agent among the predictors the bandit picks from."""
    if run.outcome is None or run.outcome.status != "completed":
        raise StepSkipped("no trained agent (training failed)")
    from selflow_qt import agents
    from selflow_qt.agents.serving.serving import SuggestionService

    problems = _ErrorLog(logging.WARNING)  # e.g. "agent ... unavailable; using markov-2"
    logger = logging.getLogger(agents.__name__)  # the package's logger: every agents module's
    logger.addHandler(problems)
    service = SuggestionService(run.data_dir)
    try:
        service.resolve_pending()
        suggestions = service.suggest(k=3)
        arms = list(service.bandit.arms)
    finally:
        logger.removeHandler(problems)
        service.db.close()
    if problems.messages:
        raise AssertionError(f"{len(problems.messages)} warnings, first: {problems.messages[0]}")
    if run.outcome.model_id not in arms:
        raise AssertionError(f"the new agent {run.outcome.model_id} is not among {arms}")
    if not suggestions or not all(s.text.strip() for s in suggestions):
        raise AssertionError(f"no usable suggestion: {suggestions}")
    top = suggestions[0]
    return (
        f"{len(suggestions)} suggestions from {top.predictor} (picked among {len(arms)} "
        f"predictors, the new agent included); first: [{top.kind}] {top.text}"
    )


def step_window(run: SelfTestRun) -> str:
    """The main window with its docks builds and renders once on the offscreen platform."""
    from selflow_qt.ui.selftest_window import render_main_window

    errors = _ErrorLog()
    logging.getLogger("selflow_qt").addHandler(errors)
    saved_hook = sys.excepthook  # an exception in a Qt slot only reaches sys.excepthook
    sys.excepthook = errors.excepthook
    try:
        summary = render_main_window(run.data_dir, run.data_dir / "selftest-window.png")
    finally:
        logging.getLogger("selflow_qt").removeHandler(errors)
        sys.excepthook = saved_hook
    if errors.messages:
        raise AssertionError(f"{len(errors.messages)} errors logged, first: {errors.messages[0]}")
    return summary


class _ErrorLog(logging.Handler):
    """Collects the app's ERROR (or ``level``) log records and exceptions raised in Qt slots."""

    def __init__(self, level: int = logging.ERROR) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        self.messages.append(f"{record.name}: {text}")

    def excepthook(self, kind, value, tb) -> None:
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        self.messages.append(f"uncaught in a slot: {kind.__name__}: {value}")


STEPS: tuple[tuple[str, Callable[[SelfTestRun], str]], ...] = (
    ("libraries", step_libraries),
    ("demo-import", step_demo_import),
    ("analysis", step_analysis),
    ("analysis-process", step_analysis_process),
    ("training", step_training),
    ("suggestion", step_suggestion),
    ("window", step_window),
)


def _run_step(run: SelfTestRun, name: str, step: Callable[[SelfTestRun], str]) -> StepResult:
    started = time.monotonic()
    try:
        detail = step(run)
        passed = True
    except StepSkipped as exc:
        detail, passed = f"skipped: {exc}", False
    except Exception as exc:  # noqa: BLE001 - every failure is reported, then the next step runs
        detail, passed = f"{type(exc).__name__}: {exc}", False
        traceback.print_exc(file=sys.stderr)
    return StepResult(name, passed, time.monotonic() - started, " ".join(detail.split()))


def run_self_test(data_dir: str | Path | None = None, out: TextIO | None = None) -> int:
    """Run every step in a fresh data folder (``data_dir`` must be new or empty); 0 if all pass."""
    out = out or sys.stdout
    if data_dir is not None:
        folder = Path(data_dir).expanduser().resolve()
        if folder.exists() and any(folder.iterdir()):
            print(f"selflow --self-test: {folder} is not empty; give a new folder", file=out)
            return 2
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="selflow-selftest-"))
    env = {
        "QT_QPA_PLATFORM": "offscreen",  # no display needed, and none is touched
        "SELFLOW_DATA_DIR": str(folder),  # nothing may reach the user's real data
        # An empty Hugging Face cache: the base model is the bundled SmolLM2-135M GGUF, never a
        # bigger model the user happens to have cached, and nothing is looked up online.
        "HF_HOME": str(folder / "hf-home"),
        "HF_HUB_OFFLINE": "1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    run = SelfTestRun(data_dir=folder)
    print(f"selflow self-test in {folder}", file=out, flush=True)
    started = time.monotonic()
    try:
        for name, step in STEPS:
            result = _run_step(run, name, step)
            run.results.append(result)
            print(result.line(), file=out, flush=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    passed = sum(r.passed for r in run.results)
    ok = passed == len(run.results)
    total = time.monotonic() - started
    print(f"self-test: {passed}/{len(run.results)} passed in {total:.1f} s", file=out, flush=True)
    if ok and data_dir is None:
        shutil.rmtree(folder, ignore_errors=True)
    elif not ok:
        print(f"self-test: data kept in {folder}", file=out, flush=True)
    return 0 if ok else 1
