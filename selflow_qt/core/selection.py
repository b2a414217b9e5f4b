"""The selected points of a scatter as an index array, and the pure masks that build it.

No Qt here: a rectangle or lasso drag becomes a numpy mask; table and scatter stay linked
through the one index array kept by :class:`SelectionModel`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Listener = Callable[[np.ndarray, object], None]


def rect_mask(xy: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Points inside the rectangle spanned by two corners (edges included, any corner order)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    lo_x, hi_x = min(x0, x1), max(x0, x1)
    lo_y, hi_y = min(y0, y1), max(y0, y1)
    x, y = xy[:, 0], xy[:, 1]
    return (x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)


def lasso_mask(xy: np.ndarray, polygon: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Points inside a closed polygon, by even-odd ray casting vectorised over the points.

    The polygon is closed implicitly (last vertex joins the first); fewer than 3 vertices
    select nothing. Points exactly on an edge may fall either way.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    inside = np.zeros(len(xy), dtype=bool)
    if len(poly) < 3 or len(xy) == 0:
        return inside
    # Only points inside the polygon's bounding box can be inside it.
    (bx0, by0), (bx1, by1) = poly.min(axis=0), poly.max(axis=0)
    cand = np.flatnonzero(rect_mask(xy, bx0, by0, bx1, by1))
    if len(cand) == 0:
        return inside
    px, py = xy[cand, 0], xy[cand, 1]
    hit = np.zeros(len(cand), dtype=bool)
    xj, yj = poly[-1]
    for xi, yi in poly:
        # Edge (xj, yj) -> (xi, yi) crosses the horizontal ray going right from the point?
        straddles = (yi > py) != (yj > py)
        if yi != yj:
            x_cross = xi + (py - yi) * (xj - xi) / (yj - yi)
            hit ^= straddles & (px < x_cross)
        xj, yj = xi, yi
    inside[cand] = hit
    return inside


def indices_of(all_ids: np.ndarray, wanted_ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """Positions in ``all_ids`` whose id is in ``wanted_ids`` (sorted, int64)."""
    all_ids = np.asarray(all_ids)
    if len(all_ids) == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.isin(all_ids, np.asarray(wanted_ids, dtype=all_ids.dtype)))


class SelectionModel:
    """The current selection as a sorted, unique int64 index array; listeners hear changes.

    ``source`` tags who changed it (the scatter, the table) so a view can skip its own echo.
    """

    def __init__(self, size: int = 0) -> None:
        self._size = int(size)
        self._indices = np.empty(0, dtype=np.int64)
        self._listeners: list[Listener] = []

    @property
    def size(self) -> int:
        return self._size

    @property
    def indices(self) -> np.ndarray:
        return self._indices

    def __len__(self) -> int:
        return len(self._indices)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def reset(self, size: int) -> None:
        """New data: forget the selection and accept indices below ``size``."""
        self._size = int(size)
        self.set_indices(np.empty(0, dtype=np.int64), source=None)

    def set_indices(self, indices: Sequence[int] | np.ndarray, source: object = None) -> bool:
        """Replace the selection; returns True (and notifies) if it changed."""
        idx = np.unique(np.asarray(indices, dtype=np.int64))
        if len(idx) and (idx[0] < 0 or idx[-1] >= self._size):
            raise IndexError(f"selection index out of range 0..{self._size - 1}")
        if np.array_equal(idx, self._indices):
            return False
        self._indices = idx
        for listener in list(self._listeners):
            listener(idx, source)
        return True

    def set_mask(self, mask: np.ndarray, source: object = None, *, add: bool = False) -> bool:
        """Select where ``mask`` is true; with ``add`` keep what was selected too."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if add:
            idx = np.union1d(self._indices, idx)
        return self.set_indices(idx, source)

    def clear(self, source: object = None) -> bool:
        return self.set_indices(np.empty(0, dtype=np.int64), source)

    def mask(self) -> np.ndarray:
        m = np.zeros(self._size, dtype=bool)
        m[self._indices] = True
        return m
