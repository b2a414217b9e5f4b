"""The agents' own tables: the bandit's arms (persisted across restarts)."""

from __future__ import annotations

import time

from peewee import AutoField, CharField, FloatField, IntegerField

from selflow_qt.store.models import BaseModel


def _now() -> float:
    return time.time()


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


MODELS = [BanditArm]
