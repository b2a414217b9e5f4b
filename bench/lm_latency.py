"""How long the model takes to write its lines after an event, on a real stream.

Replays a stream and, after each of ``--events`` events, asks ``LineWriter.lines`` for the next
lines (each prompt new, so no answer comes from its cache): the prompt is encoded once in
``torch.inference_mode`` and its key/value cache is shared by the beams. Prints p50 / p95 per
variant (the adapter merged into the weights, or left as PEFT's LoRA layers; float32 or
bfloat16 weights; beam width; ``ct2``: merged and converted to CTranslate2 int8, as the model
process serves it, one worker with the cores (2 here); ``ct2-1thread``: one thread) and where the time goes (prompt vs
generated tokens; torch variants only). Every variant answers the same events, one after the
other, so their p50s compare at the load of the moment (printed).

    .venv/bin/python bench/lm_latency.py [--stream secret-laboratory] [--events 60] [--threads 2]
        [--variants merged,peft,merged-bf16,merged-beam1,ct2,ct2-1thread]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from learning import read_streams  # noqa: E402
from lm_diagnose import load_model  # noqa: E402

from selflow_qt.agents.evaluation.evaluation import percentile  # noqa: E402
from selflow_qt.agents.ranking.actions import keyed, render_prompt  # noqa: E402
from selflow_qt.agents.ranking.ranking_agent import CONTEXT_EVENTS  # noqa: E402


def with_adapter(model, merged: bool):
    """The base model with a fresh LoRA adapter (as trained: q_proj, v_proj, r 8), merged into
    the weights or kept as PEFT layers. An untrained adapter costs what a trained one does."""
    from peft import get_peft_model

    from selflow_qt.agents.model.trainer import TrainConfig

    pmodel = get_peft_model(model, TrainConfig().lora_config())
    pmodel.eval()
    return pmodel.merge_and_unload() if merged else pmodel


def converted(threads: int):
    """The base model with a fresh LoRA adapter (as trained) merged and converted to
    CTranslate2 int8, as the model process serves it (converted once, then reused)."""
    from peft import get_peft_model

    from selflow_qt.agents.model.fast_runtime import FastModel, convert_agent, fast_dir, is_current
    from selflow_qt.agents.model.trainer import TrainConfig

    folder = Path(tempfile.gettempdir()) / "selflow-bench-models" / "lm-latency-agent"
    if not (folder / "adapter_model.safetensors").exists():
        model, _tok = load_model()
        get_peft_model(model, TrainConfig().lora_config()).save_pretrained(str(folder))
        from selflow_qt.agents.model.base_model import ensure_converted, find_gguf

        base = ensure_converted(find_gguf(), folder.parent)
        spec = {"kind": "path", "location": str(base), "description": "bench"}
        (folder / "agent.json").write_text(json.dumps({"base_model": spec}))
    if not is_current(folder):
        t0 = time.perf_counter()
        convert_agent(folder, folder.parent)
        print(f"converted to CTranslate2 in {time.perf_counter() - t0:.0f} s", flush=True)
    return FastModel.load(fast_dir(folder), intra_threads=threads)


def run(writer, stream, first: int, n: int) -> dict:
    """Answer times (ms) after each of ``n`` events from ``first``, and the prompt's share."""
    import torch

    from selflow_qt.agents.model.fast_runtime import FastModel
    from selflow_qt.agents.model.lm_writer import MAX_PROMPT_TOKENS

    writer.latencies_ms.clear()
    writer._cache.clear()
    if isinstance(writer.model, FastModel):
        writer.model.forget()  # the lines computed, not those kept for a prompt seen before
    prompt_ms = []
    for i in range(first, min(len(stream), first + n)):
        ctx = stream[max(0, i - CONTEXT_EVENTS) : i]
        writer.lines(ctx)
        if isinstance(writer.model, FastModel):
            continue
        # The prompt alone (its encoding), for where the time goes.
        ids = writer.tok(render_prompt(ctx, writer.context_lines), add_special_tokens=False)
        t0 = time.perf_counter()
        with torch.inference_mode():
            writer.model(
                input_ids=torch.tensor([ids["input_ids"][-MAX_PROMPT_TOKENS:]]), logits_to_keep=1
            )
        prompt_ms.append((time.perf_counter() - t0) * 1000)
    lat = writer.latencies_ms[1:]  # the first answer warms the allocator up
    return {
        "n": len(lat),
        "p50": percentile(lat, 0.5),
        "p95": percentile(lat, 0.95),
        "mean": statistics.fmean(lat),
        "prompt_p50": percentile(prompt_ms[1:], 0.5) if prompt_ms else float("nan"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--stream", default="secret-laboratory", help="a stream (SEA user or game)")
    ap.add_argument("--events", type=int, default=60, help="events answered per variant")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: as set_threads)")
    ap.add_argument("--variants", default="merged,ct2,ct2-1thread")
    args = ap.parse_args()

    import torch

    from selflow_qt.agents.model.lm_writer import LineWriter

    streams = read_streams(Path(args.data), 30)
    stream = keyed(streams[args.stream])
    first = min(len(stream) - args.events, max(CONTEXT_EVENTS, len(stream) // 2))
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        torch.set_num_threads(args.threads)
    print(
        f"{args.stream}: {args.events} events from position {first}; torch threads "
        f"{torch.get_num_threads()}; load {os.getloadavg()[0]:.1f}"
    )
    print("| variant | answers | p50 ms | p95 ms | mean ms | prompt encoding p50 ms |")
    print("| --- | --: | --: | --: | --: | --: |")
    results = {}
    for variant in args.variants.split(","):
        if variant.startswith("ct2"):
            fast = converted(1 if variant.endswith("1thread") else args.threads)
            r = results[variant] = run(LineWriter(fast, fast.tok), stream, first, args.events)
            print(
                f"| {variant} | {r['n']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['mean']:.0f} | - |",
                flush=True,
            )
            continue
        model, tok = load_model()
        model = with_adapter(model, merged=variant.startswith("merged"))
        if variant.endswith("bf16"):
            model = model.to(torch.bfloat16)
        beams = 1 if variant.endswith("beam1") else LineWriter.beams
        r = results[variant] = run(LineWriter(model, tok, beams=beams), stream, first, args.events)
        print(
            f"| {variant} | {r['n']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['mean']:.0f} "
            f"| {r['prompt_p50']:.0f} |",
            flush=True,
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f} (2 cores, shared)")
    if "merged" in results:
        for variant, r in results.items():
            if variant != "merged":
                m = results["merged"]
                print(
                    f"merged (torch) / {variant}: p50 {m['p50'] / r['p50']:.1f}x, "
                    f"p95 {m['p95'] / r['p95']:.1f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
