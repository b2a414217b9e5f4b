"""One agent's training fits its time budget: the adapter gets its share, the slice and the
evaluation get as many positions as the model's measured answer times let fit."""

import time

from selflow_qt.agents.training.budget import (
    ADAPTER_SHARE,
    SAVE_RESERVE_S,
    Budget,
    times_the_model,
)


def test_the_adapter_gets_its_share_of_what_is_left():
    b = Budget(600.0, t0=time.perf_counter() - 100.0)  # 100 s gone (loading the model)
    assert abs(b.adapter_seconds(None) - (600 * ADAPTER_SHARE - 100)) < 1.0
    assert b.adapter_seconds(30.0) == 30.0  # a shorter configured limit stands
    late = Budget(600.0, t0=time.perf_counter() - 590.0)
    assert late.adapter_seconds(360.0) == 10.0  # never nothing at all


def test_positions_shrink_to_what_fits_but_not_below_the_floor():
    b = Budget(600.0, t0=time.perf_counter() - 300.0)  # 300 s left
    left = 300.0 - SAVE_RESERVE_S
    assert b.positions(100, 30, 1.0) == 100  # all fit
    assert abs(b.positions(100, 30, 5.0) - left / 5.0) <= 1  # about 57 fit
    assert b.positions(100, 30, 60.0) == 30  # the floor
    assert b.positions(10, 30, 60.0) == 10  # never more than asked
    assert b.positions(100, 30, 0.0) == 100


def test_only_a_job_that_asks_for_more_than_the_floors_times_the_model():
    assert times_the_model({})  # the defaults: 60 and 100 positions
    assert times_the_model({"lm_positions": 12, "eval_positions": 100})
    assert not times_the_model({"lm_positions": 12, "eval_positions": 30})  # a quick try
