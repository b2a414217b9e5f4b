"""Ranking candidate actions by their log-likelihood under a (LoRA-adapted) language model.

The prompt runs once; its key/value cache is shared by every candidate, which run together in
one batched forward pass; the LM head is applied only at the candidate tokens. Scores are the
mean log-probability per token, so a long candidate is not beaten by a short one for its length.
A converted model (``fast_runtime.FastModel``) scores the same token sequences with CTranslate2.
"""

from __future__ import annotations

from selflow_qt.agents.model.fast_runtime import FastModel
from selflow_qt.agents.ranking.actions import render_target

MAX_PROMPT_TOKENS = 176
MAX_TARGET_TOKENS = 40


def _tokens(tok, prompt: str, keys: list[str]) -> tuple[list[int], list[list[int]]]:
    """The prompt's last ``MAX_PROMPT_TOKENS`` tokens and each key's target tokens."""
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"][-MAX_PROMPT_TOKENS:]
    t_ids = [
        tok(render_target(k), add_special_tokens=False)["input_ids"][:MAX_TARGET_TOKENS]
        for k in keys
    ]
    return p_ids, t_ids


def score_keys(
    model, tok, prompt: str, keys: list[str], bf16: bool = False, normalise: bool = True
) -> list[float]:
    """Mean (``normalise``) or sum of the log-probabilities of each key's target text after
    ``prompt`` (higher is likelier)."""
    if not keys:
        return []
    if isinstance(model, FastModel):
        p_ids, t_ids = _tokens(model.tok, prompt, keys)
        sums = model.score(p_ids, t_ids)
        return [s / len(t) if normalise else s for s, t in zip(sums, t_ids, strict=True)]
    import torch

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    body, head = base.model, base.get_output_embeddings()
    device = next(model.parameters()).device
    p_ids, t_ids = _tokens(tok, prompt, keys)
    n, width = len(keys), max(len(t) for t in t_ids)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    cand = torch.full((n, width), pad, dtype=torch.long)
    cmask = torch.zeros((n, width), dtype=torch.long)
    for i, t in enumerate(t_ids):
        cand[i, : len(t)] = torch.tensor(t)
        cmask[i, : len(t)] = 1
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        prompt_t = torch.tensor([p_ids], device=device)
        out = body(input_ids=prompt_t, use_cache=True)
        first = torch.log_softmax(head(out.last_hidden_state[0, -1]).float(), -1)
        cache = out.past_key_values
        cache.batch_repeat_interleave(n)
        attn = torch.cat([torch.ones((n, len(p_ids)), dtype=torch.long), cmask], 1).to(device)
        hidden = body(
            input_ids=cand.to(device), attention_mask=attn, past_key_values=cache, use_cache=False
        ).last_hidden_state
        # Position j of a candidate predicts its token j+1.
        nxt = cmask[:, 1:].bool()
        logp = torch.log_softmax(head(hidden[:, :-1][nxt.to(device)]).float(), -1)
        tok_lp = logp.gather(1, cand[:, 1:][nxt].to(device)[:, None])[:, 0].cpu()
    scores, pos = [], 0
    for t in t_ids:
        m = len(t) - 1
        total = float(first[t[0]]) + float(tok_lp[pos : pos + m].sum())
        scores.append(total / len(t) if normalise else total)
        pos += m
    return scores


def full_pass_scores(
    model, tok, prompt: str, keys: list[str], normalise: bool = True
) -> list[float]:
    """The same quantity from one plain full forward pass per candidate (a reference for tests)."""
    import torch

    out = []
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"][-MAX_PROMPT_TOKENS:]
    for k in keys:
        t = tok(render_target(k), add_special_tokens=False)["input_ids"][:40]
        ids = torch.tensor([p_ids + t])
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
        total = sum(float(logp[len(p_ids) - 1 + j, t[j]]) for j in range(len(t)))
        out.append(total / len(t) if normalise else total)
    return out
