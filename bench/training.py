"""Training benchmark: our LoRA trainer vs a plain transformers Trainer + PEFT recipe (same model,
data, LoRA config, batch size and sequence length), and the wall time of one default agent.

    .venv/bin/python bench/training.py [--steps 10] [--skip-full] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load(data_dir: Path):
    from selflow_qt.agents.model.base_model import load_base_model, resolve_base_model, set_threads
    from selflow_qt.core.settings import Settings

    threads = set_threads()
    spec = resolve_base_model(Settings(), data_dir)
    model, tok = load_base_model(spec, data_dir)
    return model, tok, threads


def demo_examples(workflow: str = "coding"):
    from selflow_qt.agents.model.dataset import build_examples, split_by_time
    from selflow_qt.demo.generator import generate_demo

    events = [e for e in generate_demo(7, 0) if e.meta.get("workflow") == workflow]
    return split_by_time(build_examples(events))


def ours(model, tok, split, cfg):
    from selflow_qt.agents.model.trainer import train_adapter

    _, r = train_adapter(copy.deepcopy(model), tok, split.train, [], cfg)
    return r.tokens / r.seconds, r.seconds, r.tokens


def hf_trainer(model, tok, split, cfg, bf16: bool):
    """The plain recipe: PEFT model, Trainer, a padding collator, labels masked on the prompt."""
    import torch
    from peft import get_peft_model
    from transformers import Trainer, TrainingArguments

    from selflow_qt.agents.model.trainer import collate, encode

    pmodel = get_peft_model(copy.deepcopy(model), cfg.lora_config())
    data = [encode(tok, e.prompt, e.target_text, cfg.max_len) for e in split.train]
    pad = tok.pad_token_id
    counted = {"tokens": 0}

    class DS(torch.utils.data.Dataset):
        def __len__(self):
            return len(data)

        def __getitem__(self, i):
            return data[i]

    def collator(batch):
        ids, mask, labels = collate(batch, pad)
        counted["tokens"] += int(mask.sum())
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=cfg.batch_size,
            max_steps=cfg.max_steps,
            learning_rate=cfg.learning_rate,
            warmup_steps=max(1, int(cfg.max_steps * cfg.warmup_fraction)),
            lr_scheduler_type="linear",
            logging_steps=10_000,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            bf16=bf16,
            dataloader_num_workers=0,
            disable_tqdm=True,
            seed=cfg.seed,
        )
        trainer = Trainer(model=pmodel, args=args, train_dataset=DS(), data_collator=collator)
        t0 = time.perf_counter()
        trainer.train()
        secs = time.perf_counter() - t0
    return counted["tokens"] / secs, secs, counted["tokens"]


def real_stream(path: Path, n: int, work: Path) -> Path:
    """The first ``n`` events of a real stream (JSON Lines, gzipped or not) as a file to import."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    out = work / f"first-{n}.jsonl"
    with opener(path, "rt", encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    return out


def full_agent(data_dir: Path, events: Path | None = None, n: int = 20_000):
    """Wall time of `selflow train` (default settings): on the demo's coding workflow, or with
    ``events`` on all activity of the first ``n`` events of that real stream, imported as
    `selflow import jsonl` does."""
    from selflow_qt.agents.training.runner import TrainingRunner, queue_training
    from selflow_qt.collect.importers import import_file
    from selflow_qt.demo.generator import write_demo
    from selflow_qt.store.context import StoreContext

    work = Path(tempfile.mkdtemp(prefix="selflow-bench-"))
    if (data_dir / "models").is_dir():
        (work / "models").symlink_to(data_dir / "models")  # reuse the converted base model
    ctx = StoreContext.open(work)
    if events is None:
        write_demo(ctx, 7, 0)
        sid = queue_training(ctx, workflow="coding")
    else:
        report = import_file(ctx, "jsonl", real_stream(events, n, work))
        print(f"real stream: {report.summary()}")
        sid = queue_training(ctx)
    t0 = time.perf_counter()
    out = TrainingRunner(work).run(sid)
    wall = time.perf_counter() - t0
    meta_file = work / "agents" / out.model_id / "agent.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    return (
        wall,
        out.status if out.status == "completed" else f"{out.status}: {out.error}",
        out.metrics or {},
        meta,
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument(
        "--events",
        default=None,
        help="train the full agent on all activity of this real stream (.jsonl[.gz]) "
        "instead of the demo, e.g. ../shared/data/sea-users21-50.jsonl.gz",
    )
    ap.add_argument("-n", type=int, default=20_000, help="events of --events to import")
    ap.add_argument("--only-full", action="store_true", help="skip the trainer comparison")
    a = ap.parse_args()
    from selflow_qt.agents.model.base_model import cpu_bf16_ok
    from selflow_qt.agents.model.trainer import TrainConfig
    from selflow_qt.core.settings import resolve_data_dir

    data_dir = resolve_data_dir(a.data_dir or tempfile.mkdtemp(prefix="selflow-bench-data-"))
    if a.only_full:
        return report_full(data_dir, a)
    model, tok, threads = load(data_dir)
    split = demo_examples()
    bf16 = cpu_bf16_ok()
    cfg = TrainConfig(max_steps=a.steps, eval_every=10_000, bf16=bf16)
    print(
        f"model SmolLM2-135M-Instruct, {threads} torch threads, {os.cpu_count()} cores, bf16 autocast {bf16}"
    )
    print(
        f"data: demo 'coding' workflow, {len(split.train)} train examples; LoRA r={cfg.lora_r} "
        f"alpha={cfg.lora_alpha} on {','.join(cfg.target_modules)}; batch {cfg.batch_size}, "
        f"max_len {cfg.max_len}, {cfg.max_steps} steps each"
    )
    ours_tps, ours_s, ours_tok = ours(model, tok, split, cfg)
    hf_tps, hf_s, hf_tok = hf_trainer(model, tok, split, cfg, bf16)
    print()
    print(f"{'trainer':<34} {'tokens':>8} {'seconds':>8} {'tokens/s':>9} {'ratio':>6}")
    print(
        f"{'transformers Trainer + PEFT':<34} {hf_tok:>8} {hf_s:>8.1f} {hf_tps:>9.1f} {1.0:>6.2f}"
    )
    print(
        f"{'selflow trainer':<34} {ours_tok:>8} {ours_s:>8.1f} {ours_tps:>9.1f} {ours_tps / hf_tps:>6.2f}x"
    )
    return 0 if a.skip_full else report_full(data_dir, a)


def report_full(data_dir: Path, a) -> int:
    from selflow_qt.agents.model.base_model import resolve_base_model
    from selflow_qt.agents.model.trainer import TrainConfig
    from selflow_qt.core.settings import Settings

    resolve_base_model(Settings(), data_dir)  # the base model in place before the clock starts
    events = Path(a.events) if a.events else None
    wall, status, metrics, meta = full_agent(data_dir, events, a.n)
    what = f"{a.n} events of {events.name}, all activity" if events else "demo 'coding' workflow"
    print()
    print(
        f"one agent with default settings (TrainConfig() = at most {TrainConfig().max_steps} "
        f"steps, child process, load + train + offline eval) on {what}: "
        f"{wall / 60:.1f} min ({status}); target < 10 min"
    )
    phases = (meta.get("training") or {}).get("phases") or {}
    if phases:
        print(f"{'phase':<28} {'seconds':>8} {'share':>6}")
        for name, sec in phases.items():
            print(f"{name:<28} {sec:>8.1f} {sec / wall:>6.0%}")
    training = meta.get("training") or {}
    if training.get("steps") is not None:
        print(
            f"adapter: {training.get('steps')} of {training.get('total_steps')} steps, "
            f"early stop {training.get('early_stopped')}, out of time {training.get('out_of_time')}, "
            f"val loss {training.get('val_loss_before')} -> {training.get('val_loss_after')}"
        )
    if meta.get("lm_share") is not None:
        print(f"lm_share {meta['lm_share']:+.3f}, margin {meta.get('margin_over_best_baseline')}")
    if metrics:
        from selflow_qt.agents.evaluation.evaluation import Metrics, format_table

        print(
            format_table({k: Metrics(**v) for k, v in metrics.items()}, "its offline evaluation:")
        )
    try:
        print(
            f"\nload average while measuring: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)"
        )
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
