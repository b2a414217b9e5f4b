"""Clusterers that misbehave, for the failure-isolation tests (imported by the child processes)."""

from __future__ import annotations

import time

import numpy as np


def boom(X: np.ndarray, seed: int):
    raise RuntimeError("this clusterer always fails")


def sleepy(X: np.ndarray, seed: int):
    time.sleep(600)
