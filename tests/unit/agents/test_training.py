"""Real LoRA steps on SmolLM2-135M: validation loss falls; scoring is batched and cached."""

from __future__ import annotations

import copy

import pytest

from selflow_qt.agents.model.dataset import build_examples, split_by_time
from selflow_qt.agents.model.trainer import TrainConfig, train_adapter

CONFIG = TrainConfig(max_steps=8, batch_size=8, learning_rate=2e-3, eval_every=100, max_val=16)


@pytest.fixture(scope="module")
def trained(loaded_model, routine):
    model, tok = loaded_model
    split = split_by_time(build_examples(routine(30, seed=3)), val_fraction=0.15)
    steps = []
    pmodel, result = train_adapter(
        copy.deepcopy(model), tok, split.train, split.val, CONFIG, progress=steps.append
    )
    return pmodel, tok, result, steps


def test_a_few_lora_steps_lower_validation_loss(trained):
    _, _, result, steps = trained
    assert result.steps == CONFIG.max_steps and not result.cancelled
    assert result.val_loss_after < 0.8 * result.val_loss_before, result
    assert [s.step for s in steps] == list(range(1, CONFIG.max_steps + 1))
    assert all(s.tokens_per_s > 0 for s in steps) and steps[-1].eta_s == 0


def test_training_stops_when_asked(loaded_model, routine):
    model, tok = loaded_model
    ex = build_examples(routine(5))
    _, result = train_adapter(
        copy.deepcopy(model),
        tok,
        ex,
        [],
        TrainConfig(max_steps=50, batch_size=2),
        should_stop=lambda: True,
    )
    assert result.cancelled and result.steps == 0


def test_training_stops_when_its_time_is_up_and_keeps_what_it_learned(loaded_model, routine):
    """Issue 21: one agent trains in under 10 minutes on 2 cores; the adapter has a time budget
    (max_seconds) besides early stopping on validation loss."""
    model, tok = loaded_model
    ex = build_examples(routine(5))
    cfg = TrainConfig(max_steps=50, batch_size=2, max_seconds=1e-9, eval_every=10)
    _, result = train_adapter(copy.deepcopy(model), tok, ex[:-4], ex[-4:], cfg)
    assert result.steps == 1 and result.out_of_time and result.early_stopped
    assert not result.cancelled and result.final_loss is not None
    # What it keeps is validated at the step it stopped (the Training Center draws it).
    assert [s for s, _ in result.val_points] == [0, 1]
    assert result.val_loss_after == result.val_points[-1][1]


def test_batched_cached_scores_equal_full_passes_and_are_per_token(loaded_model):
    from selflow_qt.agents.model.scoring import full_pass_scores, score_keys

    model, tok = loaded_model
    prompt = "mon 9h in ~/p\n+0s shell run ls\nnext:"
    keys = ["shell run ls", "shell run git status --short --branch ~/p/a.py"]
    fast = score_keys(model, tok, prompt, keys)
    slow = full_pass_scores(model, tok, prompt, keys)
    assert fast == pytest.approx(slow, abs=2e-3)
    sums = score_keys(model, tok, prompt, keys, normalise=False)
    n_tokens = [len(tok(f" {k}\n", add_special_tokens=False)["input_ids"]) for k in keys]
    assert fast == pytest.approx([s / n for s, n in zip(sums, n_tokens, strict=True)], abs=1e-4)
