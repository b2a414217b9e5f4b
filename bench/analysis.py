"""Analysis benchmark: the cycle on demo weeks of several sizes, on real shell sessions, and naive.

    .venv/bin/python bench/analysis.py [--events 130000 1000000] [--games FILE|none]
                                       [--naive] [--naive-timeout 120] [--umap off]

Demo (``--events``, each a fresh 7-day demo): one ``run_cycle`` (features, workflow units,
PCA, landmarks, five clusterers in child processes, kNN out-of-sample, evidence-accumulation
consensus, patterns, storage). Reported: time, peak RSS of the process tree, units, each
algorithm's clusters and ARI, and the consensus: ARI against the generator's true workflows on
the non-noise events, and *workflows found of 5* (a true workflow is found when the stable
patterns whose events are mostly that workflow hold at least half of its events).

Games (``--games``, default ../shared/data/training-games-4.jsonl.gz): real shell commands of
students in hands-on training games, imported as ``selflow import jsonl`` would, analysed with
defaults; ARI and NMI of each clusterer and of the consensus against ``meta.game``; the patterns
with their names and first/last seen.

Naive (``--naive``, on the first demo size): the same event feature matrix, each algorithm fitted
on ALL events (hdbscan; spectral with kNN affinity and the true k=5; GMM with components by BIC
over 2..12; DBSCAN with eps at the k-distance knee; Ward agglomerative with k=5), each in a child
process time-boxed at ``--naive-timeout`` seconds and limited to 8 GiB of address space.

Peak memory: RSS of this process and all its children, sampled every 50 ms (numpy and C
allocations included, unlike tracemalloc).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


class PeakRSS:
    """Samples the RSS of this process tree (self + descendants) in a thread; keeps the peak."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self.proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def scores(truth: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score

    real = truth != "noise"
    return (
        float(adjusted_rand_score(truth[real], labels[real])),
        float(adjusted_rand_score(truth, labels)),
    )


# -- the naive pipeline: each algorithm on the full matrix, in a child process -----------------
def _naive_hdbscan(X):
    import hdbscan

    return hdbscan.HDBSCAN(min_cluster_size=max(10, len(X) // 60)).fit(X).labels_


def _naive_spectral(X):
    from sklearn.cluster import SpectralClustering

    return SpectralClustering(
        n_clusters=5, affinity="nearest_neighbors", n_neighbors=15, random_state=0
    ).fit_predict(X)


def _naive_gmm(X):
    from sklearn.mixture import GaussianMixture

    best, best_bic = None, np.inf
    for k in range(2, 13):
        gm = GaussianMixture(n_components=k, random_state=0).fit(X)
        bic = gm.bic(X)
        if bic < best_bic:
            best, best_bic = gm, bic
    return best.predict(X)


def _naive_dbscan(X):
    from sklearn.cluster import DBSCAN
    from sklearn.neighbors import NearestNeighbors

    from selflow_qt.analyze.clusterers.density import knee_eps

    d, _ = NearestNeighbors(n_neighbors=20).fit(X).kneighbors(X)
    return DBSCAN(eps=knee_eps(d[:, -1]), min_samples=20).fit_predict(X)


def _naive_agglomerative(X):
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=5, linkage="ward").fit_predict(X)


NAIVE = {
    "hdbscan": _naive_hdbscan,
    "spectral": _naive_spectral,
    "gmm": _naive_gmm,
    "density": _naive_dbscan,
    "hierarchical": _naive_agglomerative,
}


NAIVE_MEMORY_LIMIT = 8 * 2**30  # address space of a naive child: fail, don't swap the machine


def _naive_child(conn, name: str, X: np.ndarray) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (NAIVE_MEMORY_LIMIT, NAIVE_MEMORY_LIMIT))
    try:
        conn.send(("ok", NAIVE[name](X)))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {str(exc)[:80]}"))


def children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_naive(name: str, X: np.ndarray, timeout: float) -> tuple[np.ndarray | None, float, str]:
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_naive_child, args=(send, name, X), daemon=True)
    t0 = time.perf_counter()
    p.start()
    send.close()
    if recv.poll(timeout):
        try:
            status, payload = recv.recv()
        except EOFError:
            status, payload = "error", f"died (exit {p.exitcode})"
        p.join(5)
        elapsed = time.perf_counter() - t0
        if status == "ok":
            return np.asarray(payload), elapsed, "ok"
        return None, elapsed, payload
    p.terminate()
    p.join(5)
    if p.is_alive():
        p.kill()
    return None, timeout, f"timed out at {timeout:g} s"


GAMES = HERE.parent.parent / "shared" / "data" / "training-games-4.jsonl.gz"
WORKFLOWS = ("coding", "writing", "downloads", "design", "admin")


def workflows_found(res, truth: np.ndarray) -> list[str]:
    """True workflows whose stable patterns (mostly that workflow) hold half its events or more."""
    cons = res.consensus_labels
    held = dict.fromkeys(WORKFLOWS, 0)
    for p in res.patterns:
        members = truth[cons == p.cluster_label]
        if len(members) == 0:
            continue
        names, counts = np.unique(members, return_counts=True)
        top = names[np.argmax(counts)]
        if top in held:
            held[top] += int(np.count_nonzero(members == top))
    return [w for w in WORKFLOWS if held[w] >= 0.5 * np.count_nonzero(truth == w)]


def timed_cycle(ctx):
    from selflow_qt.analyze.cycle import run_cycle

    with PeakRSS() as mem:
        t0 = time.perf_counter()
        res = run_cycle(ctx)
        seconds = time.perf_counter() - t0
    return res, seconds, mem.peak


def bench_demo(n_events: int, umap: str | None) -> tuple[dict, object]:
    from selflow_qt.demo.generator import write_demo
    from selflow_qt.store.context import StoreContext

    tmp = tempfile.mkdtemp(prefix="selflow-bench-")
    ctx = StoreContext.open(tmp)
    if umap:
        ctx.settings.analysis_umap = umap
    t0 = time.perf_counter()
    n = write_demo(
        ctx,
        days=7,
        seed=0,
        start=datetime(2026, 11, 16).timestamp(),
        events_per_day=-(-n_events // 7),
    )
    print(f"\ndemo: {n:,} events written in {time.perf_counter() - t0:.1f} s")
    res, seconds, peak = timed_cycle(ctx)
    truth = np.array([w or "" for w in res.truth])
    real, _ = scores(truth, res.consensus_labels)
    found = workflows_found(res, truth)
    run_metrics = ctx.db.execute_sql(
        "SELECT json_extract(metrics, '$.units') FROM analysis_runs WHERE id = ?", (res.run_id,)
    ).fetchone()
    print(f"{'algorithm':<13} {'clusters':>8} {'ARI':>6} {'weight':>6} {'runtime':>8}")
    for name, a in res.algorithms.items():
        ari = scores(truth, res.labels[name])[0] if name in res.labels else float("nan")
        note = a.error or a.note or ""
        print(
            f"{name:<13} {a.clusters:>8} {ari:>6.3f} {a.weight:>6.2f} {a.runtime_s:>7.2f}s {note}"
        )
    print(f"{'consensus':<13} {len(res.patterns):>8} {real:>6.3f}")
    print("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in res.stages.items()))
    print("patterns: " + "; ".join(p.name for p in res.patterns))
    row = {
        "events": res.n_events,
        "units": int(run_metrics[0]) if run_metrics and run_metrics[0] is not None else 0,
        "found": len(found),
        "missed": [w for w in WORKFLOWS if w not in found],
        "ari": real,
        "seconds": seconds,
        "peak": peak,
    }
    return row, (ctx, res, truth)


def bench_games(path: Path) -> None:
    import gzip

    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from selflow_qt.collect.importers import import_file
    from selflow_qt.store.context import StoreContext

    tmp = Path(tempfile.mkdtemp(prefix="selflow-bench-games-"))
    plain = tmp / "games.jsonl"
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as src, plain.open("w", encoding="utf-8") as dst:
        dst.write(src.read())
    ctx = StoreContext.open(tmp / "data")
    report = import_file(ctx, "jsonl", plain)
    print(f"\ngames: {report.summary()}")
    res, seconds, peak = timed_cycle(ctx)
    games = dict(ctx.db.execute_sql("SELECT id, json_extract(meta, '$.game') FROM events"))
    truth = np.array([str(games[int(i)]) for i in res.event_ids])
    n_games = len(set(truth.tolist()))

    def row(name: str, labels: np.ndarray, clusters: int, note: str = "") -> str:
        ari = adjusted_rand_score(truth, labels)
        nmi = normalized_mutual_info_score(truth, labels)
        return f"{name:<13} {clusters:>8} {ari:>6.3f} {nmi:>6.3f}  {note}"

    print(
        f"\nReal sessions: {res.n_events:,} shell commands of {n_games} training games "
        f"({path.name}), scored against meta.game; {seconds:.1f} s, "
        f"peak RSS {peak / 2**20:,.0f} MiB"
    )
    print(f"{'algorithm':<13} {'clusters':>8} {'ARI':>6} {'NMI':>6}")
    for name, a in res.algorithms.items():
        if name in res.labels:
            print(row(name, res.labels[name], a.clusters, a.note or ""))
        else:
            print(f"{name:<13} {'-':>8} {'-':>6} {'-':>6}  {a.error}")
    print(row("consensus", res.consensus_labels, len(res.patterns)))
    print("\npatterns (first seen .. last seen, events' own times, UTC)")
    from selflow_qt.store.models import Pattern

    for p in res.patterns:
        pat = Pattern.get_by_id(p.pattern_id)
        members = truth[res.consensus_labels == p.cluster_label]
        names, counts = np.unique(members, return_counts=True)
        first = datetime.fromtimestamp(pat.first_seen, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
        last = datetime.fromtimestamp(pat.last_seen, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
        print(
            f"  {p.name:<46} {p.event_count:>5}  {first} .. {last}  "
            f"mostly {names[np.argmax(counts)]} ({counts.max() / counts.sum():.0%})"
        )
    ctx.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="*", default=[130_000, 1_000_000])
    ap.add_argument("--games", default=str(GAMES), help="games JSONL(.gz), or 'none'")
    ap.add_argument("--naive", action="store_true", help="also the naive pipeline (slow)")
    ap.add_argument("--naive-timeout", type=float, default=120.0)
    ap.add_argument(
        "--umap", choices=("off", "scatter", "cluster"), help="analysis_umap (default: the setting)"
    )
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    if args.games != "none":
        if Path(args.games).exists():
            bench_games(Path(args.games))
        else:
            print(f"\ngames: {args.games} not found; skipped")

    rows, first = [], None
    for n in args.events:
        row, kept = bench_demo(n, args.umap)
        rows.append(row)
        if first is None:
            first = kept
        else:
            kept[0].close()
    if not rows:
        return 0
    print("\nDemo weeks (5 true workflows; ARI on non-noise events)")
    print(
        f"{'events':>10} {'units':>6} {'found':>6} {'ARI':>6} {'time (s)':>9} "
        f"{'peak RSS (MiB)':>15}  missed"
    )
    for r in rows:
        print(
            f"{r['events']:>10,} {r['units']:>6} {r['found']:>4}/5 {r['ari']:>6.3f} "
            f"{r['seconds']:>9.1f} {r['peak'] / 2**20:>15,.0f}  {', '.join(r['missed']) or '-'}"
        )
    if args.naive and first is not None:
        ctx, res, truth = first
        bench_naive(ctx, res, truth, rows[0], args.naive_timeout)
    if first is not None:
        first[0].close()
    return 0


def bench_naive(ctx, res, truth, cycle_row: dict, timeout: float) -> None:
    from selflow_qt.analyze.dataset import load_events
    from selflow_qt.analyze.features import build_features

    rows = []
    with PeakRSS() as naive_mem:
        t0 = time.perf_counter()
        X = build_features(load_events(ctx.db)).X
        feat_s = time.perf_counter() - t0
        naive_total = feat_s
        best = (-1.0, "")
        for name in NAIVE:
            cc = children_cpu()
            labels, sec, status = run_naive(name, X, timeout)
            cpu = children_cpu() - cc
            naive_total += sec
            if labels is not None:
                r, a = scores(truth, labels)
                best = max(best, (r, name))
                rows.append((name, sec, cpu, f"{r:.3f}", f"{a:.3f}", status))
            else:
                rows.append((name, sec, cpu, "-", "-", status))
    print(f"\nNaive pipeline: each algorithm on the full {X.shape[0]:,} x {X.shape[1]} matrix")
    print(f"{'algorithm':<13} {'seconds':>8} {'CPU s':>7} {'ARI':>6} {'ARI all':>8}  status")
    print(f"{'features':<13} {feat_s:>8.2f}")
    for name, sec, cpu, r, a, status in rows:
        print(f"{name:<13} {sec:>8.2f} {cpu:>7.1f} {r:>6} {a:>8}  {status}")
    print(f"{'total':<13} {naive_total:>8.2f}   peak RSS {naive_mem.peak / 2**20:,.0f} MiB")
    print(
        f"SelFlow {cycle_row['seconds']:.1f} s, ARI {cycle_row['ari']:.3f}; naive "
        f"{naive_total:.1f} s, best single ARI {best[0]:.3f} ({best[1] or 'none finished'})"
    )


if __name__ == "__main__":
    sys.exit(main())
