"""The training child's conversion stage: the trained adapter staged and converted to
CTranslate2, so the slice, the evaluation and later the model process ask the fast model."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

Emit = Callable[[dict], None]


def fast_stage(job: dict, pmodel, tok, emit: Emit) -> tuple[Any, Any, Path]:
    """Stage the trained adapter's files (the agent's folder gets these bytes), then merge it
    into the base and convert that to CTranslate2 int8 beside them (``fast_runtime``): the
    model the slice and the evaluation ask, several times faster than torch on a CPU, and the
    one the model process serves without converting again. Returns (model, tokenizer, staged
    folder); where the conversion fails, the merged torch model (the same scores), logged."""
    from selflow_qt.agents.model.fast_runtime import stage_adapter
    from selflow_qt.core.child import run_folder

    staged = (Path(job["work_dir"]) if job.get("work_dir") else run_folder("train")) / "agent"
    shutil.rmtree(staged, ignore_errors=True)
    stage_adapter(pmodel, staged, job["base_model"])
    if not job.get("convert", True):  # a quick try: the model process converts if it serves
        return pmodel, tok, staged
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return pmodel, tok, staged
    emit({"event": "converting"})
    merged = pmodel.merge_and_unload()
    try:
        from selflow_qt.agents.model.fast_runtime import FastModel, write_fast

        fast = FastModel.load(write_fast(merged, tok, staged))
    except Exception as exc:  # noqa: BLE001 - any failure leaves the torch path
        logging.getLogger(__name__).warning(
            "the model's conversion to CTranslate2 failed (%s); weighing it with torch", exc
        )
        return merged, tok, staged
    return fast, fast.tok, staged
