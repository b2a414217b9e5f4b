"""Analysis benchmark: one SelFlow cycle vs a naive pipeline on the same 130,000 demo events.

    .venv/bin/python bench/analysis.py [--events 130000] [--naive-timeout 120] [--skip-naive]

SelFlow: ``run_cycle`` (features, PCA on a sample, 4,000 landmarks, five clusterers in child
processes, kNN out-of-sample, evidence-accumulation consensus, patterns, storage), with the
2-D UMAP view computed alongside. Per-stage times come from the cycle itself.

Naive: the same feature matrix, each algorithm fitted on ALL events (hdbscan; spectral with
kNN affinity and the true k=5; GMM with components by BIC over 2..12; DBSCAN with eps at the
k-distance knee; Ward agglomerative with k=5), each in a child process time-boxed at
``--naive-timeout`` seconds and limited to 8 GiB of address space (a MemoryError is
recorded rather than swapping the machine); naive time = features + the sum of its algorithms' times (a
time-out counts its full box). Both are scored by ARI against the demo's true workflows, on the
non-noise events (noise has no workflow) and on all events.

Peak memory: RSS of this process and all its children, sampled every 50 ms (numpy and C
allocations included, unlike tracemalloc); reported per phase as the peak of the tree's sum.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from datetime import datetime
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=130_000)
    ap.add_argument("--naive-timeout", type=float, default=120.0)
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument(
        "--umap", choices=("off", "scatter", "cluster"), help="analysis_umap (default: the setting)"
    )
    args = ap.parse_args()

    from selflow_qt.analyze.cycle import run_cycle
    from selflow_qt.demo.generator import write_demo
    from selflow_qt.store.context import StoreContext

    tmp = tempfile.mkdtemp(prefix="selflow-bench-")
    ctx = StoreContext.open(tmp)
    if args.umap:
        ctx.settings.analysis_umap = args.umap
    per_day = -(-args.events // 7)
    t0 = time.perf_counter()
    n = write_demo(
        ctx, days=7, seed=0, start=datetime(2026, 11, 16).timestamp(), events_per_day=per_day
    )
    print(f"demo: {n:,} events written in {time.perf_counter() - t0:.1f} s ({os.cpu_count()} CPUs)")

    # -- SelFlow cycle --------------------------------------------------------------------------
    load_before = os.getloadavg()[0]
    with PeakRSS() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_cycle(ctx)
        cycle_s = time.perf_counter() - t0
        parent_cpu = time.process_time() - c0
    import psutil

    live = 0.0  # processes still alive: the forkserver (imports, UMAP compile), its tracker
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
            live += t.user + t.system
        except psutil.Error:
            pass
    child_cpu = res.cpu_children_s + live
    truth = np.array([w or "" for w in res.truth])
    cyc_real, cyc_all = scores(truth, res.consensus_labels)
    print(
        f"\nSelFlow cycle on {res.n_events:,} events (analysis_umap={ctx.settings.analysis_umap})"
    )
    print(f"{'stage':<12} {'seconds':>8}")
    for stage, sec in res.stages.items():
        print(f"{stage:<12} {sec:>8.2f}")
    print(f"{'total':<12} {cycle_s:>8.2f}   peak RSS (process tree) {mem.peak / 2**20:,.0f} MiB")
    print(
        f"CPU: {parent_cpu:.1f} s in the cycle's process + {child_cpu:.1f} s in its children "
        f"(clusterers, 2-D UMAP, forkserver) = {parent_cpu + child_cpu:.1f} s; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)"
    )
    print(f"{'algorithm':<13} {'clusters':>8} {'ARI':>6} {'runtime':>8}")
    for name, a in res.algorithms.items():
        ari = scores(truth, res.labels[name])[0] if name in res.labels else float("nan")
        print(f"{name:<13} {a.clusters:>8} {ari:>6.3f} {a.runtime_s:>7.2f}s {a.error or ''}")
    print(f"{'consensus':<13} {len(res.patterns):>8} {cyc_real:>6.3f}  (all events {cyc_all:.3f})")
    print("patterns: " + "; ".join(p.name for p in res.patterns))

    if args.skip_naive:
        return 0
    # -- naive pipeline -------------------------------------------------------------------------
    from selflow_qt.analyze.dataset import load_events
    from selflow_qt.analyze.features import build_features

    rows = []
    with PeakRSS() as naive_mem:
        t0, c0 = time.perf_counter(), time.process_time()
        X = build_features(load_events(ctx.db)).X
        feat_s = time.perf_counter() - t0
        naive_cpu = time.process_time() - c0
        naive_total = feat_s
        best = (-1.0, -1.0, "")
        for name in NAIVE:
            cc = children_cpu()
            labels, sec, status = run_naive(name, X, args.naive_timeout)
            cpu = children_cpu() - cc
            naive_cpu += cpu
            naive_total += sec
            if labels is not None:
                r, a = scores(truth, labels)
                if r > best[0]:
                    best = (r, a, name)
                rows.append((name, sec, cpu, f"{r:.3f}", f"{a:.3f}", status))
            else:
                rows.append((name, sec, cpu, "-", "-", status))
    ctx.close()
    print(f"\nNaive pipeline: each algorithm on the full {X.shape[0]:,} x {X.shape[1]} matrix")
    print(f"{'algorithm':<13} {'seconds':>8} {'CPU s':>7} {'ARI':>6} {'ARI all':>8}  status")
    print(f"{'features':<13} {feat_s:>8.2f}")
    for name, sec, cpu, r, a, status in rows:
        print(f"{name:<13} {sec:>8.2f} {cpu:>7.1f} {r:>6} {a:>8}  {status}")
    print(
        f"{'total':<13} {naive_total:>8.2f}   peak RSS (process tree) {naive_mem.peak / 2**20:,.0f} MiB"
    )

    print(f"load average after the naive pipeline: {os.getloadavg()[0]:.1f}")
    print("\nSide by side")
    print(f"{'':<22} {'SelFlow':>10} {'naive':>10}")
    print(
        f"{'time (s)':<22} {cycle_s:>10.1f} {naive_total:>10.1f}   speed-up {naive_total / cycle_s:.1f}x"
    )
    cyc_cpu = parent_cpu + child_cpu
    print(
        f"{'CPU time (s)':<22} {cyc_cpu:>10.1f} {naive_cpu:>10.1f}   ratio {naive_cpu / cyc_cpu:.1f}x"
    )
    if best[2]:
        naive_r, naive_a, note = (
            f"{best[0]:.3f}",
            f"{best[1]:.3f}",
            f"naive: best single ({best[2]})",
        )
    else:
        naive_r, naive_a, note = "n/a", "n/a", "naive: no algorithm finished"
    print(f"{'ARI (non-noise)':<22} {cyc_real:>10.3f} {naive_r:>10}   {note}")
    print(f"{'ARI (all events)':<22} {cyc_all:>10.3f} {naive_a:>10}")
    print(f"{'peak RSS (MiB)':<22} {mem.peak / 2**20:>10,.0f} {naive_mem.peak / 2**20:>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
