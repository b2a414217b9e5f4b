"""The analysis tables: one row per cycle, one assignment per event and cycle (peewee only)."""

from __future__ import annotations

import time

from peewee import AutoField, CharField, FloatField, IntegerField, TextField
from playhouse.sqlite_ext import JSONField

from selflow_qt.store.models import BaseModel


def _now() -> float:
    return time.time()


class AnalysisRun(BaseModel):
    """One analysis cycle: when, on what, how it went (metrics: see interfaces.md)."""

    id = AutoField()
    started_at = FloatField(default=_now, index=True)
    completed_at = FloatField(null=True)
    status = CharField(max_length=16, default="running")  # running / completed / failed
    n_events = IntegerField(default=0)
    since = FloatField(null=True)
    until = FloatField(null=True)
    consensus_score = FloatField(default=0.0)
    trigger = CharField(max_length=16, default="manual")  # budget / manual
    metrics = JSONField(default=dict)

    class Meta:
        table_name = "analysis_runs"


class ClusterAssignment(BaseModel):
    """Where one event landed in one cycle: consensus cluster, 2-D position, each algorithm."""

    id = AutoField()
    run = IntegerField(index=True)
    event_id = IntegerField()
    consensus = IntegerField(default=-1)
    confidence = FloatField(default=0.0)
    x = FloatField(default=0.0)
    y = FloatField(default=0.0)
    labels = TextField(default="{}")  # JSON {"hdbscan": int, ...}

    class Meta:
        table_name = "cluster_assignments"
        indexes = ((("run", "consensus"), False), (("run", "event_id"), False))


MODELS = [AnalysisRun, ClusterAssignment]
