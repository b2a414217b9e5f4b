"""A full training converts the model it just trained (no second load of the base) and the
agent's folder keeps that conversion, current, beside the adapter's bytes."""

from __future__ import annotations

import copy

import pytest

PROMPT = "mon 9h in ~/p\n+0s shell run ls\nnext:"
KEYS = ["shell run ls", "shell run git status", "shell run make test"]


def _job(tmp_path, smollm_dir, **extra) -> dict:
    spec = {"kind": "path", "location": str(smollm_dir), "description": "test"}
    return {"work_dir": str(tmp_path / "job"), "base_model": spec, **extra}


def _adapted(loaded_model, smollm_dir, tmp_path):
    from peft import PeftModel

    from tests.support.agent_models import write_adapter

    model, tok = loaded_model
    write_adapter(tmp_path / "adapter", smollm_dir, b_std=0.05)  # B != 0: the merge shows
    return PeftModel.from_pretrained(copy.deepcopy(model), str(tmp_path / "adapter")), tok


@pytest.mark.slow  # one real conversion (~20-40 s on 2 cores)
def test_a_full_run_converts_its_model_and_the_agent_keeps_it(loaded_model, smollm_dir, tmp_path):
    from selflow_qt.agents.model import fast_runtime
    from selflow_qt.agents.model.adapters import save_adapter
    from selflow_qt.agents.model.scoring import score_keys
    from selflow_qt.agents.training.fast_stage import fast_stage

    pmodel, tok = _adapted(loaded_model, smollm_dir, tmp_path)
    before = score_keys(pmodel, tok, PROMPT, KEYS)
    said: list[dict] = []
    job = _job(tmp_path, smollm_dir)
    fast, ftok, staged = fast_stage(job, pmodel, tok, said.append)
    assert isinstance(fast, fast_runtime.FastModel) and said == [{"event": "converting"}]
    after = score_keys(fast, ftok, PROMPT, KEYS)
    assert after == pytest.approx(before, abs=0.4)  # int8
    assert after.index(max(after)) == before.index(max(before))
    out = tmp_path / "agents" / "agent-x"
    save_adapter(None, out, {"model_id": "agent-x", "base_model": job["base_model"]}, staged)
    # The model process finds it current: it serves without converting again.
    assert fast_runtime.is_current(out) and (out / fast_runtime.ADAPTER_WEIGHTS).exists()


def test_a_quick_try_keeps_the_torch_model_and_converts_nothing(loaded_model, smollm_dir, tmp_path):
    from selflow_qt.agents.model import fast_runtime
    from selflow_qt.agents.training.fast_stage import fast_stage

    pmodel, tok = _adapted(loaded_model, smollm_dir, tmp_path)
    said: list[dict] = []
    model, _, staged = fast_stage(
        _job(tmp_path, smollm_dir, convert=False), pmodel, tok, said.append
    )
    assert model is pmodel and not said
    assert (staged / fast_runtime.ADAPTER_WEIGHTS).exists()
    assert not fast_runtime.fast_dir(staged).exists()
