"""Privacy benchmark: what the privacy filter costs per event, today's rules beside the baseline.

    .venv/bin/python bench/privacy.py [--events 200000] [--repeat 3] [--baseline REV]

(a) CPU microseconds per event of ``PrivacyFilter.apply`` on the ingest benchmark's day of capture
(60% fs, 20% app, 20% shell), and on a mix where 1 shell command in 10 carries a secret.
(b) The worst case: one 128 KB command built to make a rule backtrack (the shapes that were
quadratic), in milliseconds. The baseline is ``selflow_qt/core/privacy.py`` as it was at REV
(default: the commit before issue 12), loaded from git; it is skipped where git is unavailable.
(c) With ``--long-before REV``: every 64 KB text of bench/_long_inputs.py (long random tokens,
no two alike, in the syntaxes the rules and the scan look at; repeated command words) through
``PrivacyFilter.apply``, the package as at REV beside now, each in a fresh process (budget 50 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _events import make_events  # noqa: E402

from selflow_qt.core.event import Event  # noqa: E402
from selflow_qt.core.privacy import PrivacyFilter  # noqa: E402

BASELINE_REV = "5af5bfc"
SECRETS = [
    "curl -u admin:hunter2xyz https://ci.example.com",
    "export API_TOKEN=tok_9f8e7d6c5b4a",
    "git clone https://dev:pa/ss@git.example.com/r.git",
    "docker login -u me -p D0ckerPw registry.io",
    "gh auth login --with-token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
]
WORST = {
    "'pass' x 32K": "pass",
    "'mysql ' x 21K": "mysql ",
    "'PASSWORD_' x 14K": "PASSWORD_",
    "'secret_' x 18K": "secret_",
    "'--token ' x 16K": "--token ",
    "'x:' x 64K": "x:",
    "'AC' x 64K": "AC",
}


def load_baseline(rev: str):
    """The PrivacyFilter class of ``rev`` (None if git cannot show it)."""
    try:
        src = subprocess.run(
            ["git", "show", f"{rev}:selflow_qt/core/privacy.py"],
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE.parent,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("privacy_baseline")
    module.__dict__["__name__"] = "privacy_baseline"
    sys.modules["privacy_baseline"] = module  # dataclasses look their module up
    exec(compile(src, f"{rev}:privacy.py", "exec"), module.__dict__)
    return module.PrivacyFilter


def per_event_us(filter_cls, events: list[Event], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        pf = filter_cls()  # a fresh filter: caches start empty
        apply = pf.apply
        t0 = time.process_time()
        for ev in events:
            apply(ev)
        best = min(best, time.process_time() - t0)
    return best / len(events) * 1e6


def worst_ms(filter_cls, text: str) -> float:
    pf = filter_cls()
    t0 = time.process_time()
    pf.redact(text)
    return (time.process_time() - t0) * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", default=BASELINE_REV, help="git revision of the baseline")
    ap.add_argument("--no-baseline-worst", action="store_true", help="skip the slow old worst case")
    ap.add_argument(
        "--long-before",
        default="",
        metavar="REV",
        help="also time the 64 KB long-token texts, at REV (git) beside now",
    )
    args = ap.parse_args()

    base = load_baseline(args.baseline)
    events = [Event(**d) for d in make_events(args.events)]
    mixed = list(events)
    for i in range(0, len(mixed), 50):  # every 10th shell command (1 event in 50) has a secret
        mixed[i] = Event(
            ts=mixed[i].ts, source="shell", action="command", cmd=SECRETS[i % len(SECRETS)]
        )
    rows = [
        ("day of capture (fs/app/shell)", events),
        ("same, 1 event in 50 with a secret", mixed),
    ]
    label = f"baseline {args.baseline}" if base else "baseline (n/a)"
    print(f"\nPrivacy filter CPU per event ({len(events):,} events, best of {args.repeat})\n")
    print(f"| events | {label} us/event | now us/event | budget |")
    print("| --- | --: | --: | --: |")
    for name, evs in rows:
        old = f"{per_event_us(base, evs, args.repeat):.2f}" if base else "-"
        new = per_event_us(PrivacyFilter, evs, args.repeat)
        print(f"| {name} | {old} | {new:.2f} | 3.00 |")

    print("\nWorst case: one 128 KB command built from a rule's own trigger (CPU ms)\n")
    print(f"| command | {label} ms | now ms |")
    print("| --- | --: | --: |")
    for name, unit in WORST.items():
        text = (unit * (131_072 // len(unit) + 1))[:131_072]
        old = "-"
        if base and not args.no_baseline_worst:
            old = f"{worst_ms(base, text):,.0f}"
        print(f"| {name} | {old} | {worst_ms(PrivacyFilter, text):,.1f} |")

    if args.long_before:
        print_long_inputs(args.long_before)
    return 0


_LONG_INPUTS_CODE = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from _long_inputs import long_inputs
from selflow_qt.core.event import Event
from selflow_qt.core.privacy import PrivacyFilter
pf, out = PrivacyFilter(), {}
for name, text in long_inputs():
    ev = Event(ts=1.0, source="shell", action="command", cmd=text)
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        pf.apply(ev)
        best = min(best, time.process_time() - t0)
    out[name] = best * 1e3
print(json.dumps(out))
"""


def long_input_ms(rev: str | None) -> dict[str, float]:
    """CPU ms (best of 3) of each 64 KB text of bench/_long_inputs.py in a fresh process, with
    the package as at ``rev`` (git archive into a temporary folder) or as it is now (None)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = HERE.parent
        if rev:
            archive = subprocess.run(
                ["git", "archive", rev, "selflow_qt"], capture_output=True, check=True, cwd=root
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            root = Path(tmp)
        out = subprocess.run(
            [sys.executable, "-c", _LONG_INPUTS_CODE, str(root), str(HERE)],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
        ).stdout
    return json.loads(out)


def print_long_inputs(rev: str, shown: int = 8) -> None:
    """The slowest 64 KB long-token texts now beside ``rev``, and how many pass the budget."""
    before, now = long_input_ms(rev), long_input_ms(None)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n64 KB long-token texts ({len(now)}; CPU ms, best of 3; {rev} beside now)\n")
    print(f"| text | {rev} ms | now ms |")
    print("| --- | --: | --: |")
    for name in sorted(now, key=lambda k: -now[k])[:shown]:  # the slowest now
        print(f"| {name} | {before.get(name, float('nan')):.1f} | {now[name]:.1f} |")
    for label, ms in ((rev, before), ("now", now)):
        over = sum(v > 50 for v in ms.values())
        print(f"\n{label}: worst {max(ms.values()):.1f} ms, {over} of {len(ms)} over 50 ms", end="")
    print(f"\nload average {load} after")


if __name__ == "__main__":
    sys.exit(main())
