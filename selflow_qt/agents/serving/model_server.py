"""The language model, served outside the app: an agent whose model earned a place (a weight for
its score, or trust in the lines it writes) gets a model process of its own.

The app (tray or ``selflow collect``) never imports torch or CTranslate2. The model process runs
the agent's adapter merged and converted to CTranslate2 int8 (``model.fast_runtime``), or torch
where the conversion failed. When an event arrives, the serving path sends the model process the
new context and the ranker's top candidates (``ServedModel.ask``);
the process answers with the model's score of each candidate and the lines it writes there. When
a suggestion is asked for, the ranker reads the ready answer for that context; an answer not in
yet leaves the ranking to the trees (it never waits for the model).

The process is a ``core.supervisor`` child: it ends with its parent, and its output goes to
``<data>/logs/model-*.log``. Only the newest question is answered (older ones are dropped).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selflow_qt.agents.ranking.predictors import Context
from selflow_qt.core import supervisor

log = logging.getLogger(__name__)

ADAPTER_FILE = "adapter_config.json"  # PEFT's: present only where an adapter was trained
POLL_S = 0.25
# How long a suggestion waits for the answer to the question its event raised (the goal: p95 of
# an answer under 400 ms); past it the trees answer alone, and the next suggestion reads it.
MODEL_WAIT_S = 0.4
# What the model process runs on: "auto" (CTranslate2 where the adapter converts, else torch) or
# "torch" (the path before CTranslate2, kept for benchmarks: bench/served_model.py --runtime).
RUNTIME = "auto"


def uses_model(folder: Path, lm_weight: float, trust: Any) -> bool:
    """Whether the agent saved in ``folder`` is served with its model: an adapter was trained
    and its ranker gives the model's score a weight (``lm_weight``) or trusts its lines."""
    trusted = trust is not None and any(float(t) != 0 for t in trust)
    return (lm_weight > 0 or trusted) and (Path(folder) / ADAPTER_FILE).exists()


def model_child(channel, data_dir: str, folder: str, runtime: str = "auto") -> dict:
    """The model process: load the agent's model, then answer questions ``(id, context, keys,
    lines)`` with ``("answer", {...})`` until asked to stop. The adapter merged and converted to
    CTranslate2 (``fast_runtime``; converted first in a child of its own when there is none
    current) serves without torch; where that fails the base model and adapter run in torch."""
    from selflow_qt.agents.model.adapters import METADATA_FILE, AgentPredictor
    from selflow_qt.agents.model.base_model import offline_env
    from selflow_qt.agents.model.fast_runtime import ensure_fast
    from selflow_qt.agents.model.lm_writer import LineWriter

    offline_env()
    t0 = time.perf_counter()
    meta = json.loads((Path(folder) / METADATA_FILE).read_text(encoding="utf-8"))
    context_lines = int(meta.get("context_lines", 4))
    fast = None
    if runtime != "torch":
        fast = ensure_fast(Path(folder), Path(data_dir), should_stop=channel.should_stop)
    if fast is not None:
        runtime = "ctranslate2"
        scorer = AgentPredictor("default", fast, fast.tok, meta, None, False)
        writer = LineWriter(fast, fast.tok, context_lines=context_lines)
        quiet = contextlib.nullcontext
    else:
        runtime = "torch"
        scorer, writer, quiet = _torch_model(data_dir, folder, meta, context_lines)
    channel.send("ready", {"load_s": time.perf_counter() - t0, "runtime": runtime})
    return {"answered": answer_questions(channel, scorer, writer, quiet), "runtime": runtime}


def answer_questions(channel, scorer, writer, quiet=contextlib.nullcontext) -> int:
    """Answer questions ``(id, context, keys, want_lines)`` with ``("answer", {...})`` until the
    channel says stop; how many were answered. Only the newest question is answered: those
    waiting are skipped, and one overtaken while its candidates were scored is dropped before
    its lines are written (the app reads only the answer for its current question)."""
    answered = 0
    while not channel.should_stop():
        if not channel.poll(POLL_S):
            continue
        question = channel.recv()
        while channel.poll(0):
            question = channel.recv()
        qid, context, keys, want_lines = question
        t1 = time.perf_counter()
        with quiet():
            scores = scorer.score(context, keys) if keys else []
            if channel.poll(0):
                continue  # a newer event came in meanwhile: its question is answered instead
            lines = writer.lines(context) if want_lines else []
        channel.send(
            "answer",
            {
                "id": qid,
                "keys": list(keys),
                "scores": [float(s) for s in scores],
                "lines": lines,
                "ms": (time.perf_counter() - t1) * 1000,
            },
        )
        answered += 1
    return answered


def _torch_model(data_dir: str, folder: str, meta: dict, context_lines: int):
    """(scorer, writer, inference context) on the base model and the adapter in torch."""
    from selflow_qt.agents.model.adapters import AgentPredictor
    from selflow_qt.agents.model.base_model import (
        BaseModelSpec,
        cpu_bf16_ok,
        load_base_model,
        set_threads,
    )
    from selflow_qt.agents.model.lm_writer import LineWriter

    set_threads()
    import torch
    from peft import PeftModel

    base, tok = load_base_model(BaseModelSpec(**meta["base_model"]), Path(data_dir))
    model = PeftModel.from_pretrained(base, folder).eval()
    bf16 = str(next(model.parameters()).device) == "cpu" and cpu_bf16_ok()
    scorer = AgentPredictor("default", model, tok, meta, None, bf16)
    return scorer, LineWriter(model, tok, context_lines=context_lines), torch.inference_mode


@dataclass
class Answer:
    """The model's answer for one context: candidate scores and the lines it wrote."""

    id: int
    scores: dict[str, float]
    lines: list[Any]
    ms: float


@dataclass
class ServedModel:
    """The app's side of one agent's model process."""

    data_dir: Path
    folder: Path
    want_lines: bool = False
    child: supervisor.Child | None = None
    ready: bool = False
    runtime: str = ""  # what the model runs on: "ctranslate2" or "torch"
    asked: int | None = None
    answer: Answer | None = None
    latencies_ms: list[float] = field(default_factory=list)  # question sent -> answer read
    _sent_at: dict[int, float] = field(default_factory=dict)

    def start(self) -> ServedModel:
        self.child = supervisor.start(
            model_child,
            str(self.data_dir),
            str(self.folder),
            RUNTIME,
            kind="model",
            data_dir=Path(self.data_dir),
            what="the model process",
        )
        return self

    @property
    def alive(self) -> bool:
        return self.child is not None and self.child.poll(self._take) is None

    def ask(self, qid: int, context: Context, keys: list[str]) -> None:
        """Ask for the scores of ``keys`` (and the lines it writes) after ``context``; the answer
        is read later by ``answer_for``. A dead process is not asked (the trees answer alone)."""
        if not self.alive:
            return
        assert self.child is not None
        try:
            self.child.send((qid, list(context), list(keys), self.want_lines))
        except (OSError, ValueError) as exc:  # it ended meanwhile
            log.warning("the model process did not take the question: %s", exc)
            return
        self.asked = qid
        self._sent_at = {qid: time.perf_counter()}

    def answer_for(self, qid: int) -> Answer | None:
        """The answer for question ``qid`` if it is in (never waits)."""
        if self.child is not None:
            self.child.poll(self._take)
        return self.answer if self.answer is not None and self.answer.id == qid else None

    def scores(self, qid: int, keys: list[str]) -> list[float] | None:
        """The model's score of each of ``keys`` for question ``qid``; None unless all are in
        (the ranker then orders by the trees alone)."""
        got = self.answer_for(qid)
        if got is None or any(k not in got.scores for k in keys):
            return None
        return [got.scores[k] for k in keys]

    def wait_answer(self, qid: int, timeout: float) -> Answer | None:
        """``answer_for``, waiting up to ``timeout`` seconds (benchmarks and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.answer_for(qid)
            if got is not None or not self.alive:
                return got
            time.sleep(0.01)
        return None

    def _take(self, message) -> None:
        tag, payload = message
        if tag == "ready":
            self.ready = True
            self.runtime = str(payload.get("runtime", ""))
            log.info(
                "model process ready (%s, %.1f s to load)", self.runtime, payload.get("load_s", 0.0)
            )
        elif tag == "answer":
            qid = int(payload["id"])
            sent = self._sent_at.pop(qid, None)
            if sent is not None:
                self.latencies_ms.append((time.perf_counter() - sent) * 1000)
            scores = dict(zip(payload["keys"], payload["scores"], strict=True))
            self.answer = Answer(qid, scores, payload["lines"], float(payload["ms"]))

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
            self.child = None


@dataclass
class ReadyLines:
    """A line writer for the ranker that reads the model process's ready lines for the current
    question (``current()``); none while the answer is not in."""

    served: ServedModel
    current: Any  # () -> the current question id

    def lines(self, _context: Context) -> list[Any]:
        got = self.served.answer_for(self.current())
        return list(got.lines) if got is not None else []
