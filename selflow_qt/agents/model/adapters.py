"""A micro-agent's adapter: saved with its metadata, and in memory as a predictor (the ranker's LM
signal while it trains)."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selflow_qt.agents.ranking.actions import Candidate, render_prompt
from selflow_qt.agents.ranking.candidates import key_of_full
from selflow_qt.agents.ranking.predictors import Context

METADATA_FILE = "agent.json"


def agents_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "agents"


def save_adapter(
    pmodel, folder: Path, metadata: dict[str, Any], files_from: Path | None = None
) -> Path:
    """Write adapter weights (none when ``pmodel`` is None: no adapter was trained), or the
    files staged in ``files_from`` (the adapter and its conversion), and metadata to a temp
    folder, then rename it into place."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    if files_from is not None:
        shutil.copytree(files_from, tmp)
    else:
        tmp.mkdir()
    if pmodel is not None:
        pmodel.save_pretrained(str(tmp))
    meta = {**metadata, "saved_at": time.time()}
    (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


@dataclass
class AgentPredictor:
    """A micro-agent: ranks candidate actions by log-likelihood under its adapter.

    Candidates are the union of the baselines' top guesses (``candidate_source``), the recent
    distinct actions, and the agent's own most common training targets, so every output is a real,
    well-formed action key.
    """

    name: str
    model: Any  # a PeftModel with this agent's adapter active
    tok: Any
    metadata: dict[str, Any]
    candidate_source: Any = None  # callable(context, k) -> list[Candidate]
    bf16: bool = False
    n_candidates: int = 10

    @property
    def context_lines(self) -> int:
        return int(self.metadata.get("context_lines", 4))

    def candidates(self, context: Context) -> list[str]:
        keys: list[str] = []
        seen: set[str] = set()

        def add(key: str) -> None:
            if key not in seen and len(keys) < self.n_candidates:
                seen.add(key)
                keys.append(key)

        if self.candidate_source is not None:
            for c in self.candidate_source(context, self.n_candidates - 3):
                add(c.key)
        for _, key in reversed(list(context)[-8:]):
            add(key)
        for line in self.metadata.get("top_targets", []):  # the adapter targets exact lines
            add(key_of_full(line) or line)
        return keys

    def score(self, context: Context, keys: list[str]) -> list[float]:
        """Mean log-probability per token of each key after the context (the ranker's LM signal)."""
        from selflow_qt.agents.model.scoring import score_keys

        self.activate()
        prompt = render_prompt(list(context), self.context_lines)
        return score_keys(self.model, self.tok, prompt, keys, self.bf16)

    def predict(self, context: Context, k: int) -> list[Candidate]:
        keys = self.candidates(context)
        scores = self.score(context, keys)
        examples = {key: ev for ev, key in context}
        ranked = sorted(zip(keys, scores, strict=True), key=lambda kv: -kv[1])[:k]
        return [Candidate(key=key, score=s, example=examples.get(key)) for key, s in ranked]

    def activate(self) -> None:
        if getattr(self.model, "active_adapter", None) != self.name and hasattr(
            self.model, "set_adapter"
        ):
            self.model.set_adapter(self.name)
