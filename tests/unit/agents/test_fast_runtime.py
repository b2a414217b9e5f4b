"""The served model on CTranslate2: the agent's adapter merged into the base model and converted
once to int8, then writing lines and scoring candidates as the torch path does (within the
rounding of int8 weights). The conversion is made once per machine (tests/support/agent_models)."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from selflow_qt.agents.model.fast_runtime import (
    FAST_DIR,
    FastModel,
    ensure_fast,
    fast_dir,
    is_current,
)
from selflow_qt.agents.model.lm_writer import MAX_PROMPT_TOKENS, LineWriter
from selflow_qt.agents.model.scoring import full_pass_scores, score_keys
from selflow_qt.agents.ranking.actions import keyed, render_prompt
from tests.support.agent_models import converted_agent, write_adapter, write_agent_meta

pytestmark = pytest.mark.slow  # the real model in both runtimes (~10 s; the conversion once)
TOLERANCE = 0.4  # mean log-probability per token: int8 weights against float32


@pytest.fixture(scope="module")
def agent_dir(smollm_dir):
    return converted_agent(smollm_dir)


@pytest.fixture(scope="module")
def both(agent_dir):
    """(the adapter in torch, its tokenizer, the converted model)."""
    from peft import PeftModel

    from selflow_qt.agents.model.base_model import BaseModelSpec, load_base_model

    meta = json.loads((agent_dir / "agent.json").read_text())
    base, tok = load_base_model(BaseModelSpec(**meta["base_model"]), agent_dir.parent, "cpu")
    return (
        PeftModel.from_pretrained(base, str(agent_dir)).eval(),
        tok,
        FastModel.load(fast_dir(agent_dir)),
    )


def _contexts(routine, n: int = 4) -> list:
    stream = keyed(routine(6, seed=5))
    return [stream[i - 8 : i] for i in range(10, 10 + 3 * n, 3)]


def test_a_conversion_is_private_and_belongs_to_its_adapter(agent_dir, tmp_path):
    assert is_current(agent_dir)
    files = list(fast_dir(agent_dir).iterdir())
    assert {"model.bin", "tokenizer.json"} <= {p.name for p in files}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    assert not [p for p in agent_dir.iterdir() if p.name.startswith(f".{FAST_DIR}")]
    copy = tmp_path / "agent"
    shutil.copytree(agent_dir, copy)
    assert is_current(copy)
    (copy / "adapter_model.safetensors").write_bytes(b"retrained")  # a newer adapter
    assert not is_current(copy)


def test_its_scores_are_the_torch_paths(both, routine):
    model, tok, fast = both
    for ctx in _contexts(routine):
        prompt = render_prompt(ctx, 4)
        keys = list(dict.fromkeys(k for _, k in ctx))
        want = score_keys(model, tok, prompt, keys)
        got = score_keys(fast, fast.tok, prompt, keys)
        assert max(abs(a - b) for a, b in zip(want, got, strict=True)) < TOLERANCE
        assert keys[want.index(max(want))] == keys[got.index(max(got))]


def test_the_lines_it_writes_score_as_the_torch_path_scores_them(both, routine):
    """Its beam search (CTranslate2's) returns whole lines, each with the mean log-probability
    torch gives it, and finds lines at least as likely as the torch search's best."""
    model, tok, fast = both
    torch_writer, fast_writer = LineWriter(model, tok), LineWriter(fast, fast.tok)
    assert fast_writer.stop_ids() == torch_writer.stop_ids()
    stops = set(torch_writer.stop_ids())
    for ctx in _contexts(routine, 2):
        prompt = render_prompt(ctx, 4)
        ids = tok(prompt, add_special_tokens=False)["input_ids"][-MAX_PROMPT_TOKENS:]
        assert fast.tok(prompt, add_special_tokens=False)["input_ids"][-MAX_PROMPT_TOKENS:] == ids
        want, got = torch_writer._beams(ids), fast_writer._beams(ids)
        assert got and len(got) <= fast_writer.beams
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        assert got[0][1] > want[0][1] - TOLERANCE
        for toks, score in got:
            assert toks[-1] in stops and not stops & set(toks[:-1])
            assert fast.tok.decode(toks, skip_special_tokens=True) == tok.decode(
                toks, skip_special_tokens=True
            )
            (ref,) = _torch_mean_logp(model, ids, toks)
            assert abs(score - ref) < TOLERANCE


def _torch_mean_logp(model, ids: list[int], toks: list[int]) -> list[float]:
    import torch

    with torch.inference_mode():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids + toks])).logits[0], -1)
    total = sum(float(logp[len(ids) - 1 + j, t]) for j, t in enumerate(toks))
    return [total / len(toks)]


def test_a_failed_conversion_leaves_the_torch_path(smollm_dir, tmp_path, caplog):
    folder = tmp_path / "agent"
    write_adapter(folder, smollm_dir)
    write_agent_meta(folder, smollm_dir)
    (folder / "adapter_model.safetensors").write_bytes(b"not a safetensors file")
    with caplog.at_level(logging.WARNING):
        assert ensure_fast(folder, tmp_path) is None
    assert "conversion to CTranslate2 failed" in caplog.text
    assert sorted(p.name for p in folder.iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
        "agent.json",
    ]


def test_a_reference_full_pass_agrees_with_the_fast_scores(both, routine):
    """The fast scores are the same quantity as one plain forward pass per candidate."""
    model, tok, fast = both
    ctx = _contexts(routine, 1)[0]
    prompt = render_prompt(ctx, 4)
    keys = list(dict.fromkeys(k for _, k in ctx))[:3]
    want = full_pass_scores(model, tok, prompt, keys)
    got = score_keys(fast, fast.tok, prompt, keys)
    assert max(abs(a - b) for a, b in zip(want, got, strict=True)) < TOLERANCE


class _Counting:
    """The real generator, counting the calls that run the model."""

    def __init__(self, generator):
        self.generator, self.calls = generator, []

    def score_batch(self, seqs, **kw):
        self.calls.append(("score", len(seqs)))
        return self.generator.score_batch(seqs, **kw)

    def generate_batch(self, starts, **kw):
        self.calls.append(("lines", len(starts)))
        return self.generator.generate_batch(starts, **kw)


def _plain_scores(fast, prompt_ids, targets) -> list[float]:
    """What ``FastModel.score`` computed before it kept answers: every target after the whole
    prompt in one ``score_batch``."""
    seqs = [fast.tok.convert_ids_to_tokens(prompt_ids + t) for t in targets]
    results = fast.generator.score_batch(seqs)
    return [float(sum(r.log_probs[-len(t) :])) for r, t in zip(results, targets, strict=True)]


def test_a_context_seen_again_is_answered_from_the_kept_answers(agent_dir, routine):
    """Scores and lines for a prompt seen before come from what was computed then (the model
    does not run again), and a batch partly kept scores as the whole batch scored afresh."""
    fast = FastModel.load(fast_dir(agent_dir))
    counting = fast.generator = _Counting(fast.generator)
    stops = LineWriter(fast, fast.tok).stop_ids()
    for ctx in _contexts(routine, 2):
        prompt = render_prompt(ctx, 4)
        p_ids = fast.tok(prompt, add_special_tokens=False)["input_ids"]
        targets = [fast.tok(f" {k}\n", add_special_tokens=False)["input_ids"] for _, k in ctx]
        want = _plain_scores(fast, p_ids, targets)
        counting.calls.clear()
        first = fast.score(p_ids, targets[:2])
        both = fast.score(p_ids, targets)  # the first two kept, the rest scored
        again = fast.score(p_ids, targets)
        unique = len({tuple(t) for t in targets[2:]} - {tuple(t) for t in targets[:2]})
        assert counting.calls == [("score", len({tuple(t) for t in targets[:2]}))] + (
            [("score", unique)] if unique else []
        )
        assert both == again and both[:2] == first
        assert max(abs(a - b) for a, b in zip(both, want, strict=True)) < 1e-3
        lines = fast.beams(p_ids, 3, 24, stops)
        assert fast.beams(p_ids, 3, 24, stops) == lines
        assert counting.calls[-1] == ("lines", 1)
        assert sum(c[0] == "lines" for c in counting.calls) == 1
