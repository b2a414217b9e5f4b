"""Faults injected into SelFlow's child processes from the test side, never shipped.

A test puts this folder first on the child's ``PYTHONPATH`` (tests/support/child_fault_env.py builds that
environment); Python imports ``sitecustomize`` at start, before the child runs any of SelFlow,
and this one wraps what the named fault needs:

- ``SELFLOW_TEST_TRAIN_FAIL_AT_STEP=N``: the adapter training raises at step N (a crash in the
  middle of a training, as an out-of-memory or a bad batch would).
"""

from __future__ import annotations

import os

TRAIN_FAIL_AT_STEP = "SELFLOW_TEST_TRAIN_FAIL_AT_STEP"


def _fail_training_at(step: int) -> None:
    from selflow_qt.agents.model import trainer

    real = trainer.train_adapter

    def train_adapter(*args, progress=None, **kwargs):
        def failing(report) -> None:
            if report.step >= step:
                raise RuntimeError(f"injected failure at step {report.step} ({TRAIN_FAIL_AT_STEP})")
            if progress is not None:
                progress(report)

        return real(*args, progress=failing, **kwargs)

    trainer.train_adapter = train_adapter


if os.environ.get(TRAIN_FAIL_AT_STEP):
    _fail_training_at(int(os.environ[TRAIN_FAIL_AT_STEP]))
