"""What an analysis cycle's run records: its metrics and each event's assignment."""

from __future__ import annotations

import json

import numpy as np

from selflow_qt.analyze.cycle_stages import Clustered, Named, Steps
from selflow_qt.store.queries.insights import save_cluster_assignments


def scatter_cpu_s(c: Clustered) -> float:
    return c.jobs[0].cpu_s if c.jobs else 0.0


def run_metrics(c: Clustered, named: Named, s: Steps, projection: str, n_units: int) -> dict:
    """What the run stores: per algorithm, agreement, stages, the consensus, the patterns."""
    return {
        "algorithms": {
            n: {
                "clusters": a.clusters,
                "silhouette": a.silhouette,
                "runtime_s": a.runtime_s,
                "params": json.loads(json.dumps(a.params, default=str)),
                "error": a.error,
                "note": a.note,
                "weight": a.weight,
            }
            for n, a in c.algos.items()
        },
        "agreement": c.agree.as_dict(),
        "stages": s.stages,
        "reduction": c.reduction,
        "projection": projection,
        "scatter_cpu_s": round(scatter_cpu_s(c), 3),
        "landmarks": int(c.land_count),
        "units": int(n_units),
        "consensus": {
            "method": c.cons.method,
            "attached": c.cons.attached,
            "per_algorithm_ari": {k: round(v, 4) for k, v in c.cons.per_algorithm_ari.items()},
            "min_support": c.cons.min_support,
            "clusters": {str(k): v for k, v in c.cons.support.items()},
        },
        "patterns": [p.pattern_id for p in named.patterns],
        "unstable": named.unstable,
    }


def store_assignments(db, run_id: int, ids, cons, conf, xy, labels: dict[str, np.ndarray]) -> None:
    names = list(labels)
    label_json: list[str] = []
    if names:
        # few distinct label combinations: build each JSON text once
        stacked = np.stack([labels[n] for n in names], axis=1)
        combos, inverse = np.unique(stacked, axis=0, return_inverse=True)
        texts = [
            "{" + ",".join(f'"{n}":{int(v)}' for n, v in zip(names, row, strict=True)) + "}"
            for row in combos
        ]
        label_json = [texts[i] for i in inverse.ravel().tolist()]
    else:
        label_json = ["{}"] * len(ids)
    rows = zip(
        [run_id] * len(ids),
        ids.tolist(),
        cons.tolist(),
        np.round(conf, 4).tolist(),
        np.round(xy[:, 0], 4).tolist(),
        np.round(xy[:, 1], 4).tolist(),
        label_json,
        strict=True,
    )
    save_cluster_assignments(db, rows)
