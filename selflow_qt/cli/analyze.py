"""`selflow analyze`: run one analysis cycle and print what it found. Also adds the trigger
section to `selflow status`. Cheap to import: the pipeline is imported inside the handler."""

from __future__ import annotations

import argparse
import json
import sys
import time

from selflow_qt.cli.options import show_progress
from selflow_qt.core.format import consensus_text
from selflow_qt.core.wording import term_words
from selflow_qt.store.queries.tray import FEW_UNITS


def _when(text: str | None) -> float | None:
    if text is None:
        return None
    from selflow_qt.core.event import EventFormatError, parse_ts

    try:
        return parse_ts(float(text) if text.replace(".", "", 1).isdigit() else text)
    except EventFormatError as exc:
        raise SystemExit(f"selflow analyze: {exc}") from None


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def format_result(res) -> str:
    """The per-algorithm table, agreement matrix, score, patterns and queued sessions."""
    lines = [f"analysis run {res.run_id}: {res.n_events:,} events, reduction {res.reduction}", ""]
    rows = [["algorithm", "clusters", "silhouette", "runtime", "chosen / error"]]
    for name, a in res.algorithms.items():
        if a.error:
            detail = "FAILED: " + a.error.splitlines()[0]
        else:
            detail = ", ".join(
                f"{k}={v}" for k, v in a.params.items() if not isinstance(v, (dict, list))
            )
        if a.note:
            detail += f"; down-weighted ({a.note})"
        sil = "-" if a.silhouette is None else f"{a.silhouette:.3f}"
        rows.append([name, str(a.clusters), sil, f"{a.runtime_s:.2f} s", detail])
    lines += _table(rows)
    ag = res.agreement
    if ag.names:
        lines += ["", "agreement (ARI upper right, NMI lower left)"]
        rows = [[""] + ag.names]
        for i, n in enumerate(ag.names):
            rows.append(
                [n]
                + [
                    "1" if i == j else f"{(ag.ari if j > i else ag.nmi)[i][j]:.2f}"
                    for j in range(len(ag.names))
                ]
            )
        lines += _table(rows)
    lines += [
        "",
        f"consensus score {res.consensus_score:.3f} (mean ARI of each algorithm to the consensus)"
        if res.reduction != FEW_UNITS
        else consensus_text(None),
        "",
    ]
    if res.patterns:
        rows = [["pattern", "name", "events", "confidence", "support", "top terms"]]
        for p in res.patterns:
            terms = ", ".join(w for w in map(term_words, p.top_terms[:6]) if w)  # as the docks
            rows.append(
                [
                    f"#{p.pattern_id}" + (" new" if p.is_new else ""),
                    p.name,
                    f"{p.event_count:,}",
                    f"{p.confidence:.2f}",
                    str(p.support),
                    terms,
                ]
            )
        lines += _table(rows)
    else:
        lines.append("no stable patterns")
    for u in res.unstable:
        lines.append(
            f"unstable cluster: {u['name']} ({u['event_count']:,} events, support {u['support']})"
        )
    lines.append("")
    for d in res.decisions:
        verdict = f"queued as session {d.session_id}" if d.queue else f"not queued: {d.reason}"
        lines.append(f"specialization: pattern #{d.pattern_id} {verdict}")
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in res.stages.items())
    lines.append(f"stages: {stages}")
    return "\n".join(lines)


def result_json(res) -> dict:
    from dataclasses import asdict

    return {
        "run_id": res.run_id,
        "n_events": res.n_events,
        "reduction": res.reduction,
        "algorithms": {n: asdict(a) for n, a in res.algorithms.items()},
        "agreement": res.agreement.as_dict(),
        "consensus_score": round(res.consensus_score, 4) if res.reduction != FEW_UNITS else None,
        "patterns": [asdict(p) for p in res.patterns],
        "unstable": res.unstable,
        "queued_sessions": res.queued_sessions,
        "decisions": [asdict(d) for d in res.decisions],
        "stages": res.stages,
    }


def run_analyze(args: argparse.Namespace) -> int:
    from selflow_qt.analyze.cycle import run_cycle
    from selflow_qt.store.context import StoreContext

    ctx = StoreContext.open(args.data_dir)
    t0 = time.perf_counter()

    tty = sys.stderr.isatty()
    shown = show_progress(args) and (tty or not args.json)
    last_stage: list[str] = []

    def progress(stage: str, frac: float) -> None:
        if not shown:
            return
        if tty:
            print(f"\r{stage:<24} {100 * frac:5.1f}%", end="", file=sys.stderr, flush=True)
        elif last_stage[-1:] != [stage]:  # -v into a pipe or file: one line per stage
            last_stage.append(stage)
            print(f"{stage} ({100 * frac:.0f}%)", file=sys.stderr, flush=True)

    try:
        res = run_cycle(ctx, since=_when(args.since), until=_when(args.until), progress=progress)
    except ValueError as exc:
        print(f"selflow analyze: {exc}", file=sys.stderr)
        return 2
    finally:
        ctx.close()
    if shown and tty:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    if args.json:
        print(json.dumps(result_json(res), indent=2, default=str))
    else:
        print(format_result(res))
        print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


def trigger_section(ctx) -> dict:
    """The cheap criteria now, pilot and units as the analysis process last checked them."""
    from selflow_qt.analyze.trigger import quick_trigger

    return quick_trigger(ctx).as_dict()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze", help="run one analysis cycle (five clusterers, consensus, patterns)"
    )
    p.add_argument("--since", help="only events at or after this time (ISO 8601 or Unix seconds)")
    p.add_argument("--until", help="only events before this time (ISO 8601 or Unix seconds)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run_analyze)
