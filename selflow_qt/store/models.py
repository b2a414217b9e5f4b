"""Peewee models: the tables of the SelFlow database. Timestamps are Unix seconds (UTC)."""

from __future__ import annotations

import time

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DatabaseProxy,
    FloatField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.sqlite_ext import JSONField

database_proxy = DatabaseProxy()


def _now() -> float:
    return time.time()


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class EventRow(BaseModel):
    id = AutoField()
    ts = FloatField(index=True)
    tz_offset = IntegerField(default=0)
    source = CharField(max_length=16)
    action = CharField(max_length=32)
    path = TextField(null=True)
    dest = TextField(null=True)
    app = TextField(null=True)
    cmd = TextField(null=True)
    cwd = TextField(null=True)
    duration = FloatField(null=True)
    meta = TextField(default="{}")  # JSON text, written by the raw fast path
    size = IntegerField(default=0)  # serialized bytes (schema v2)

    class Meta:
        table_name = "events"
        indexes = ((("source", "ts"), False), (("action", "ts"), False))


class Pattern(BaseModel):
    id = AutoField()
    name = TextField()
    pattern_type = CharField(max_length=32, default="workflow")
    confidence = FloatField(default=0.0)
    event_count = IntegerField(default=0)
    first_seen = FloatField(default=_now)
    last_seen = FloatField(default=_now, index=True)
    clustering_method = CharField(max_length=32, default="consensus")
    metadata = JSONField(default=dict)

    class Meta:
        table_name = "patterns"


class MicroAgent(BaseModel):
    id = AutoField()
    model_id = CharField(max_length=128, unique=True)
    specialization = TextField(default="")
    training_data_hash = CharField(max_length=64, default="")
    model_path = TextField(default="")
    created_at = FloatField(default=_now)
    performance_score = FloatField(default=0.0)
    success_rate = FloatField(default=0.0)
    avg_latency_ms = FloatField(default=0.0)
    total_queries = IntegerField(default=0)
    is_active = BooleanField(default=True, index=True)

    class Meta:
        table_name = "micro_agents"


class TrainingSession(BaseModel):
    id = AutoField()
    model_id = CharField(max_length=128, index=True)
    status = CharField(
        max_length=16, default="queued", index=True
    )  # queued/training/completed/failed
    started_at = FloatField(null=True)
    completed_at = FloatField(null=True)
    training_data_size = IntegerField(default=0)
    final_loss = FloatField(null=True)
    metadata = JSONField(default=dict)

    class Meta:
        table_name = "training_sessions"


class UserInteraction(BaseModel):
    id = AutoField()
    interaction_type = CharField(max_length=32, index=True)
    timestamp = FloatField(default=_now, index=True)
    model_id = CharField(max_length=128, null=True, index=True)
    success = BooleanField(null=True)
    latency_ms = FloatField(null=True)
    data = JSONField(default=dict)

    class Meta:
        table_name = "user_interactions"


class KeyValue(BaseModel):
    """Small persistent state: the buffer fill, the last cycle, ... (schema v2)."""

    key = CharField(max_length=64, primary_key=True)
    value = JSONField(null=True)
    updated_at = FloatField(default=_now)

    class Meta:
        table_name = "kv_state"


class CollectorStatus(BaseModel):
    """Each collector's health, written by whichever process runs it (schema v2)."""

    name = CharField(max_length=32, primary_key=True)
    state = CharField(max_length=16)  # running / stopped / unavailable / error
    detail = TextField(default="")
    pid = IntegerField(null=True)
    updated_at = FloatField(default=_now)

    class Meta:
        table_name = "collector_status"


class Notification(BaseModel):
    """Things the user should hear about: new patterns, training finished or failed (schema v2)."""

    id = AutoField()
    kind = CharField(max_length=32)
    title = TextField()
    body = TextField(default="")
    created_at = FloatField(default=_now, index=True)
    read = BooleanField(default=False)
    data = JSONField(default=dict)

    class Meta:
        table_name = "notifications"


ALL_MODELS: list[type[BaseModel]] = [
    EventRow,
    Pattern,
    MicroAgent,
    TrainingSession,
    UserInteraction,
    KeyValue,
    CollectorStatus,
    Notification,
]

# The analysis tables: one row per cycle, one assignment per event and cycle.


class AnalysisRun(BaseModel):
    """One analysis cycle: when, on what, how it went."""

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


# The agents' tables: the bandit's arms (persisted across restarts).


class BanditArm(BaseModel):
    """One predictor the bandit can pick: a baseline or a micro-agent."""

    id = AutoField()
    arm_id = CharField(max_length=128, unique=True)
    kind = CharField(max_length=16, default="baseline")  # baseline / agent
    successes = IntegerField(default=0)
    attempts = IntegerField(default=0)
    total_latency_ms = FloatField(default=0.0)
    updated_at = FloatField(default=_now)

    class Meta:
        table_name = "bandit_arms"


# Tables added after schema 2: created (if missing) whenever a database opens.
FEATURE_MODELS: list[type[BaseModel]] = [AnalysisRun, ClusterAssignment, BanditArm]
