"""The LoRA training loop: a plain function with progress and cancel callbacks (no processes here).

Speed: the loss is computed only at the target positions (the LM head over a 49K vocabulary is
applied to a few tokens per example, not the whole sequence), batches are grouped by length, and
on CPUs with native bfloat16 the matmuls run under bf16 autocast (LoRA weights stay float32).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from selflow_qt.agents.model.dataset import Example


@dataclass
class TrainConfig:
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    learning_rate: float = 1e-3
    batch_size: int = 8
    epochs: float = 1.0  # the step count follows the data: epochs * examples / batch_size,
    max_steps: int = 400  # capped here (CPU time), and cut short by early stopping
    max_len: int = 192
    warmup_fraction: float = 0.1
    eval_every: int = 50
    patience: int = 2  # evaluations without a better validation loss before stopping
    max_seconds: float | None = 360.0  # the adapter's share of a 10-minute training (2 cores)
    max_val: int = 64
    seed: int = 0
    bf16: bool | None = None  # None: on where the hardware does it natively

    def lora_config(self):
        from peft import LoraConfig

        return LoraConfig(
            r=self.lora_r,
            lora_alpha=self.lora_alpha,
            lora_dropout=self.lora_dropout,
            target_modules=list(self.target_modules),
            task_type="CAUSAL_LM",
        )


@dataclass
class StepReport:
    step: int
    total_steps: int
    loss: float
    tokens_per_s: float
    eta_s: float
    epoch: float
    val_loss: float | None = None


@dataclass
class TrainResult:
    steps: int
    total_steps: int
    final_loss: float | None
    val_loss_before: float | None
    val_loss_after: float | None
    tokens: int
    seconds: float
    cancelled: bool = False
    losses: list[float] = field(default_factory=list)
    early_stopped: bool = False
    out_of_time: bool = False  # stopped by max_seconds (early_stopped too)
    val_points: list[tuple[int, float]] = field(default_factory=list)  # (step, validation loss)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def encode(tok, prompt: str, target_text: str, max_len: int) -> tuple[list[int], int]:
    """Token ids of prompt+target and where the target starts (the prompt is cut on the left)."""
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    t = tok(target_text, add_special_tokens=False)["input_ids"][: max_len - 8]
    p = p[-(max_len - len(t)) :]
    return p + t, len(p)


def collate(batch: list[tuple[list[int], int]], pad_id: int):
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for i, (seq, start) in enumerate(batch):
        n = len(seq)
        ids[i, :n] = torch.tensor(seq)
        mask[i, :n] = 1
        labels[i, start:n] = ids[i, start:n]
    return ids, mask, labels


def target_loss(model, ids, mask, labels, reduction: str = "mean"):
    """Cross-entropy of the target tokens only; the LM head runs on those positions alone."""
    import torch.nn.functional as F

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    body = getattr(base, "model", None)
    head = base.get_output_embeddings()
    tgt = labels[:, 1:]
    sel = tgt != -100
    if body is None or head is None:  # unusual architectures: the plain full-logits path
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1][sel]
    else:
        hidden = body(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
        logits = head(hidden[sel])
    return F.cross_entropy(logits.float(), tgt[sel], reduction=reduction)


def _autocast(device: str, on: bool):
    import torch

    return torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=on)


def _val_loss(model, data, pad_id, bs, device, bf16) -> float | None:
    import torch

    if not data:
        return None
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), _autocast(device, bf16):
        for i in range(0, len(data), bs):
            ids, mask, labels = (t.to(device) for t in collate(data[i : i + bs], pad_id))
            loss = target_loss(model, ids, mask, labels, reduction="sum")
            total += float(loss)
            count += int((labels[:, 1:] != -100).sum())
    model.train()
    return total / max(1, count)


def _batches(data, bs: int, rng: random.Random):
    """Endless shuffled batches, grouped by length within windows of 8 batches (less padding)."""
    while True:
        order = list(range(len(data)))
        rng.shuffle(order)
        for w in range(0, len(order), bs * 8):
            window = sorted(order[w : w + bs * 8], key=lambda i: len(data[i][0]))
            chunks = [window[j : j + bs] for j in range(0, len(window), bs)]
            rng.shuffle(chunks)
            for c in chunks:
                yield [data[i] for i in c]


def train_adapter(
    model,
    tok,
    train: list[Example],
    val: list[Example],
    config: TrainConfig,
    *,
    progress: Callable[[StepReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
):
    """Wrap ``model`` with a fresh LoRA adapter and train it; returns (peft_model, TrainResult)."""
    import torch
    from peft import get_peft_model

    from selflow_qt.agents.model.base_model import cpu_bf16_ok

    if not train:
        raise ValueError("no training examples: the selected events hold fewer than two actions")
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    device = str(next(model.parameters()).device)
    bf16 = config.bf16
    if bf16 is None:
        bf16 = cpu_bf16_ok() if device == "cpu" else torch.cuda.is_bf16_supported()
    pmodel = get_peft_model(model, config.lora_config())
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    tr = [encode(tok, e.prompt, e.target_text, config.max_len) for e in train]
    va = [encode(tok, e.prompt, e.target_text, config.max_len) for e in val[-config.max_val :]]
    total = min(config.max_steps, max(1, math.ceil(config.epochs * len(tr) / config.batch_size)))
    params = [p for p in pmodel.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    warm = max(1, int(total * config.warmup_fraction))
    every = max(1, min(config.eval_every, max(10, total // 8)))  # about 8 checks per run
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    val_before = _val_loss(pmodel, va, pad_id, config.batch_size * 2, device, bf16)
    pmodel.train()
    start = time.perf_counter()
    tokens, losses, val_loss, step = 0, [], val_before, 0
    val_points = [] if val_before is None else [(0, val_before)]
    report_val = None
    batches = _batches(tr, config.batch_size, rng)
    cancelled = early = timed_out = False
    best_val, stale = val_before if val_before is not None else float("inf"), 0
    for step in range(1, total + 1):
        if should_stop is not None and should_stop():
            cancelled, step = True, step - 1
            break
        ids, mask, labels = (t.to(device) for t in collate(next(batches), pad_id))
        with _autocast(device, bf16):
            loss = target_loss(pmodel, ids, mask, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(mask.sum())
        losses.append(float(loss.detach()))
        report_val = None
        if step % every == 0 or step == total:
            val_loss = report_val = _val_loss(
                pmodel, va, pad_id, config.batch_size * 2, device, bf16
            )
            if val_loss is not None:
                val_points.append((step, val_loss))
            if val_loss is not None and val_loss < best_val - 1e-3:
                best_val, stale = val_loss, 0
            elif val_loss is not None:
                stale += 1
        if progress is not None:
            elapsed = time.perf_counter() - start
            progress(
                StepReport(
                    step=step,
                    total_steps=total,
                    loss=losses[-1],
                    tokens_per_s=tokens / elapsed if elapsed > 0 else 0.0,
                    eta_s=elapsed / step * (total - step),
                    epoch=step * config.batch_size / max(1, len(tr)),
                    val_loss=report_val,
                )
            )
        if config.patience and stale >= config.patience:
            early = True  # validation loss stopped falling
            break
        if config.max_seconds and time.perf_counter() - start > config.max_seconds:
            early = timed_out = True  # out of time: what it learned so far is kept
            break
    if timed_out and report_val is None:  # the adapter kept was never validated: it is now
        val_loss = _val_loss(pmodel, va, pad_id, config.batch_size * 2, device, bf16)
        if val_loss is not None:
            val_points.append((step, val_loss))
    pmodel.eval()
    result = TrainResult(
        early_stopped=early,
        out_of_time=timed_out,
        steps=step,
        total_steps=total,
        final_loss=sum(losses[-10:]) / len(losses[-10:]) if losses else None,
        val_loss_before=val_before,
        val_loss_after=val_loss,
        tokens=tokens,
        seconds=time.perf_counter() - start,
        cancelled=cancelled,
        losses=losses,
        val_points=val_points,
    )
    return pmodel, result
