"""The selection masks and model are pure numpy: a drag shape becomes the right index array."""

from __future__ import annotations

import numpy as np
import pytest

from selflow_qt.core.selection import SelectionModel, indices_of, lasso_mask, rect_mask


def test_rect_mask_selects_inside_points_for_any_corner_order():
    xy = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [1, 3]], dtype=np.float32)
    expected = [False, True, True, False, False]
    assert rect_mask(xy, 0.5, 0.5, 2.5, 2.5).tolist() == expected
    assert rect_mask(xy, 2.5, 2.5, 0.5, 0.5).tolist() == expected
    assert rect_mask(xy, 2.5, 0.5, 0.5, 2.5).tolist() == expected


def test_lasso_mask_on_a_concave_polygon():
    # An "L": the square 0..2 x 0..2 minus its upper-right quarter 1..2 x 1..2.
    poly = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
    pts = np.array(
        [
            [0.5, 0.5],  # inside, lower-left
            [1.5, 0.5],  # inside, lower-right arm
            [0.5, 1.5],  # inside, upper-left arm
            [1.5, 1.5],  # the notch: outside
            [3.0, 0.5],  # right of everything
            [-0.1, 1.0],  # left of everything
            [0.5, 2.5],  # above
        ]
    )
    assert lasso_mask(pts, poly).tolist() == [True, True, True, False, False, False, False]


def test_lasso_mask_matches_a_circle_on_many_points():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-2, 2, size=(20_000, 2))
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    circle = np.c_[np.cos(t), np.sin(t)]
    got = lasso_mask(xy, circle)
    r = np.hypot(xy[:, 0], xy[:, 1])
    clear = np.abs(r - 1) > 0.01  # the polygon is a slightly smaller circle near the edge
    assert np.array_equal(got[clear], (r < 1)[clear])
    assert 0.15 < got.mean() < 0.25  # about pi/16 of the square


def test_lasso_with_fewer_than_three_vertices_selects_nothing():
    xy = np.zeros((3, 2))
    assert not lasso_mask(xy, [(0, 0), (1, 1)]).any()


def test_indices_of_maps_event_ids_to_positions():
    ids = np.array([10, 20, 30, 40], dtype=np.int64)
    assert indices_of(ids, [40, 10, 99]).tolist() == [0, 3]


def test_selection_model_notifies_with_source_and_skips_no_change():
    sel = SelectionModel(5)
    seen: list[tuple[list[int], object]] = []
    sel.subscribe(lambda idx, src: seen.append((idx.tolist(), src)))
    assert sel.set_indices([3, 1, 3], source="table")
    assert not sel.set_indices([1, 3], source="table")
    assert sel.set_mask(np.array([1, 0, 0, 0, 1], bool), source="plot", add=True)
    assert seen == [([1, 3], "table"), ([0, 1, 3, 4], "plot")]
    assert sel.mask().tolist() == [True, True, False, True, True]
    sel.reset(2)
    assert len(sel) == 0 and seen[-1] == ([], None)
    with pytest.raises(IndexError):
        sel.set_indices([2])
