"""Patterns across cycles: match this cycle's stable clusters to known patterns, save, notify.

Identity: a cluster matches a known pattern when the cosine of their c-TF-IDF term vectors is
at least ``MATCH_COSINE`` (terms are stable strings, unlike coordinates, which change every
cycle); pairs are assigned one-to-one by the Hungarian method on cosine.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from peewee import SqliteDatabase

from selflow_qt.analyze.semantics import ClusterProfile
from selflow_qt.core.format import count
from selflow_qt.core.wording import terms_words
from selflow_qt.store.models import Notification, Pattern

MATCH_COSINE = 0.5


@dataclass
class PatternSummary:
    pattern_id: int
    name: str
    event_count: int
    confidence: float
    top_terms: list[str]
    is_new: bool
    cluster_label: int = -1
    support: int = 0


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


GENERIC_PREFIXES = ("act:", "depth:", "nargs:", "flag:")  # how, not what: every pattern has them
HOME_TERMS = frozenset({"cwd:~", "dir:~"})  # "somewhere in the home folder" says nothing either


def about_terms(vector: dict[str, float]) -> dict[str, float]:
    """The terms that say what a pattern is about: folders, apps, commands, their arguments."""
    return {
        t: v
        for t, v in vector.items()
        if not t.startswith(GENERIC_PREFIXES) and t not in HOME_TERMS
    }


def match_patterns(
    profiles: list[ClusterProfile], known: list[Pattern], *, about: bool = False
) -> dict[int, Pattern | None]:
    """cluster label -> the known pattern it continues (None: a new pattern).

    ``about``: compare only what the patterns are about (``about_terms``). Incremental detection
    asks this of a group whose events matched no known pattern one by one: two kinds of shell
    work share "a command, one argument, in ~" and nothing else, and are not the same pattern.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    out: dict[int, Pattern | None] = {p.label: None for p in profiles}
    if not profiles or not known:
        return out
    pick = about_terms if about else dict
    sim = np.array(
        [
            [
                cosine(pick(p.term_vector), pick((k.metadata or {}).get("term_vector", {})))
                for k in known
            ]
            for p in profiles
        ]
    )
    rows, cols = linear_sum_assignment(-sim)
    for r, c in zip(rows, cols, strict=True):
        if sim[r, c] >= MATCH_COSINE:
            out[profiles[r].label] = known[c]
    return out


def save_patterns(
    db: SqliteDatabase,
    profiles: list[ClusterProfile],
    *,
    run_id: int,
    method: str = "consensus",
    now: float | None = None,
    about: bool = False,
) -> list[PatternSummary]:
    """Update matched patterns, create new ones (each with a notification); returns summaries.

    ``about``: match as ``match_patterns(..., about=True)`` does.
    """
    now = time.time() if now is None else now
    known = list(Pattern.select().where(Pattern.pattern_type == "workflow"))
    matches = match_patterns(profiles, known, about=about)
    out = []
    with db.atomic():
        for prof in profiles:
            meta = {
                "last_run_id": run_id,
                "cluster_label": prof.label,
                "top_terms": [t for t, _ in prof.top_terms],
                "term_vector": prof.term_vector,
                "dominant_actions": prof.dominant_actions,
                "sources": prof.sources,
                "hour_profile": prof.hour_profile,
                "support": len(prof.supporters),
                "supporters": prof.supporters,
                "kind": prof.kind,
                "place": prof.place,
            }
            pat = matches.get(prof.label)
            is_new = pat is None
            if is_new:
                pat = Pattern.create(
                    name=prof.name,
                    pattern_type="workflow",
                    confidence=prof.confidence,
                    event_count=prof.event_count,
                    first_seen=prof.first_ts if prof.first_ts is not None else now,
                    last_seen=prof.last_ts if prof.last_ts is not None else now,
                    clustering_method=method,
                    metadata={**meta, "runs": [run_id]},
                )
                Notification.create(
                    kind="pattern",
                    title=f"New pattern: {prof.name}",
                    body=f"{count(prof.event_count, 'event')}, mostly "
                    + terms_words([t for t, _ in prof.top_terms], limit=5),
                    created_at=now,
                    data={"pattern_id": pat.id, "run_id": run_id},
                )
            else:
                runs = list((pat.metadata or {}).get("runs", []))[-49:] + [run_id]
                pat.name = prof.name
                pat.confidence = prof.confidence
                pat.event_count = prof.event_count
                # the pattern's span: from its earliest to its latest event over all cycles
                if prof.first_ts is not None:
                    pat.first_seen = min(pat.first_seen or prof.first_ts, prof.first_ts)
                pat.last_seen = max(pat.last_seen or 0.0, prof.last_ts or now)
                pat.clustering_method = method
                pat.metadata = {**meta, "runs": runs}
                pat.save()
            out.append(
                PatternSummary(
                    pattern_id=pat.id,
                    name=prof.name,
                    event_count=prof.event_count,
                    confidence=prof.confidence,
                    top_terms=[t for t, _ in prof.top_terms],
                    is_new=is_new,
                    cluster_label=prof.label,
                    support=len(prof.supporters),
                )
            )
    return out
