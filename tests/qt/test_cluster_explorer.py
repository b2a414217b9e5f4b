"""Cluster Explorer on a real analysed demo store: drags select points, linked to the table."""

from __future__ import annotations

import json

import numpy as np
import pytest
from doc_screenshots import update_doc_screenshot
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from selflow_qt.core.selection import lasso_mask, rect_mask


@pytest.fixture
def explorer(qtbot, analysed_copy):
    from selflow_qt.ui.docks.explorer import ClusterExplorerDock
    from selflow_qt.ui.state import AppState

    state = AppState(analysed_copy, start_services=False)
    dock = ClusterExplorerDock(state)
    qtbot.addWidget(dock)
    dock.resize(1200, 850)
    dock.show()
    qtbot.waitUntil(lambda: dock.data is not None and dock.model.rowCount() > 0, timeout=30_000)
    yield dock
    state.shutdown(10_000)
    state.ctx.close()


def _to_viewport(dock, x: float, y: float) -> QPoint:
    vb = dock.scatter.getPlotItem().vb
    return dock.scatter.mapFromScene(vb.mapViewToScene(QPointF(x, y)))


def _to_data(dock, p: QPoint) -> tuple[float, float]:
    vb = dock.scatter.getPlotItem().vb
    v = vb.mapSceneToView(dock.scatter.mapToScene(p))
    return v.x(), v.y()


def _drag(dock, points: list[QPoint]) -> None:
    """A real left-button drag through ``points`` on the scatter's viewport."""
    vp = dock.scatter.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    for p in points[1:]:
        QTest.mouseMove(vp, p, 5)
        QTest.qWait(15)  # let each move be delivered (Qt merges moves queued back to back)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1], 5)


def _table_event_ids(dock) -> list[int]:
    return [r.event_id for r in dock.model.rows]


def _biggest_cluster_box(dock) -> tuple[float, float, float, float]:
    proj = dock.data.projection
    labels, counts = np.unique(proj.consensus[proj.consensus >= 0], return_counts=True)
    pts = proj.xy[proj.consensus == labels[np.argmax(counts)]]
    (x0, y0), (x1, y1) = np.quantile(pts, 0.2, axis=0), np.quantile(pts, 0.8, axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def test_empty_state_before_any_analysis(qtbot, docks_state):
    from selflow_qt.ui.docks.base import NO_ANALYSIS
    from selflow_qt.ui.docks.explorer import ClusterExplorerDock

    dock = ClusterExplorerDock(docks_state)
    qtbot.addWidget(dock)
    dock.show()
    qtbot.waitUntil(lambda: dock.data is not None, timeout=20_000)
    assert dock.data.projection is None
    assert dock.empty.isVisible() and not dock.scatter.isVisible()
    assert dock.empty.text().startswith(NO_ANALYSIS)


def test_rectangle_drag_selects_the_points_inside_and_filters_the_table(qtbot, explorer):
    x0, y0, x1, y1 = _biggest_cluster_box(explorer)
    p0, p1 = _to_viewport(explorer, x0, y0), _to_viewport(explorer, x1, y1)
    steps = [p0 + (p1 - p0) * (k / 8) for k in range(9)]
    _drag(explorer, steps)
    (ax, ay), (bx, by) = _to_data(explorer, p0), _to_data(explorer, p1)
    expected = np.flatnonzero(rect_mask(explorer.scatter.xy, ax, ay, bx, by))
    assert len(expected) > 10
    assert explorer.selection.indices.tolist() == expected.tolist()
    assert explorer.scatter.selected_count() == len(expected)  # drawn on top, the rest faded
    ids = explorer.data.projection.event_ids[expected]
    qtbot.waitUntil(lambda: explorer.model.rowCount() == min(len(ids), 5_000), timeout=10_000)
    assert sorted(_table_event_ids(explorer)) == sorted(ids.tolist())[:5_000]
    assert f"{len(expected):,} selected" in explorer.status.text()


def test_selecting_table_rows_highlights_their_points(qtbot, explorer):
    explorer.select_rows([0, 2, 5])
    points = explorer.model.points[[0, 2, 5]]
    assert explorer.highlight.indices.tolist() == sorted(points.tolist())
    hx, hy = explorer.scatter.highlight_item.getData()
    drawn = np.c_[hx, hy]
    assert np.allclose(np.sort(drawn, axis=0), np.sort(explorer.scatter.xy[points], axis=0))
    row_ids = [explorer.model.rows[r].event_id for r in (0, 2, 5)]
    assert sorted(explorer.data.projection.event_ids[points].tolist()) == sorted(row_ids)


def test_lasso_drag_selects_the_points_in_the_drawn_polygon(qtbot, explorer):
    explorer.set_mode("lasso")
    drawn: list[np.ndarray] = []
    on_lasso = explorer.scatter.vb.on_lasso
    explorer.scatter.vb.on_lasso = lambda poly, add: (drawn.append(poly), on_lasso(poly, add))
    x0, y0, x1, y1 = _biggest_cluster_box(explorer)
    triangle = [(x0, y0), (x1, y0), ((x0 + x1) / 2, y1)]
    corners = [_to_viewport(explorer, x, y) for x, y in triangle]
    path = []
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        path += [a + (b - a) * (k / 6) for k in range(6)]
    _drag(explorer, path + [corners[0]])
    assert len(drawn) == 1
    polygon = drawn[0]
    # The recorded polygon follows the mouse path (to within a pixel's worth of data units).
    mapped = np.array([_to_data(explorer, p) for p in path])
    assert len(polygon) >= len(path) - 1
    tol = 2 * max(abs(x1 - x0), abs(y1 - y0)) / 100
    assert all(np.min(np.hypot(*(mapped - v).T)) < tol for v in polygon)
    expected = np.flatnonzero(lasso_mask(explorer.scatter.xy, polygon))
    assert len(expected) > 5
    assert explorer.selection.indices.tolist() == expected.tolist()
    inside_triangle = lasso_mask(explorer.scatter.xy, np.array(triangle))
    assert inside_triangle[expected].mean() > 0.9


def test_algorithm_switcher_recolours_by_that_algorithm(qtbot, explorer):
    proj = explorer.data.projection
    other = next(a for a in ("hdbscan", "gmm", "spectral") if a in proj.per_algorithm)
    explorer.algorithm.setCurrentText(other)
    assert explorer.labels.tolist() == proj.per_algorithm[other].tolist()
    assert set(explorer.scatter.cluster_items) == set(np.unique(proj.per_algorithm[other]).tolist())
    assert explorer.clusters.count() == len(np.unique(proj.per_algorithm[other]))


def test_dropping_a_jsonl_file_imports_it(qtbot, explorer, tmp_path):
    state = explorer.state
    before = state.read_db().execute_sql("SELECT count(*) FROM events").fetchone()[0]
    path = tmp_path / "more.jsonl"
    lines = [
        json.dumps(
            {"ts": 1_700_000_000 + i, "source": "shell", "action": "command", "cmd": f"echo {i}"}
        )
        for i in range(25)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    where = QPointF(explorer.width() / 2, explorer.height() / 2)
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    # What a real drag delivers: enter, move, then the drop (Qt drops a Drop that was never entered).
    # PySide6 < 6.12 builds drag enter/move events from an integer QPoint.
    at = where.toPoint()
    enter, move = QDragEnterEvent(at, *args), QDragMoveEvent(at, *args)
    QApplication.sendEvent(explorer, enter)
    QApplication.sendEvent(explorer, move)
    assert enter.isAccepted() and move.isAccepted()
    with qtbot.waitSignal(state.importFinished, timeout=30_000) as finished:
        drop = QDropEvent(where, *args)
        QApplication.sendEvent(explorer, drop)
        assert drop.isAccepted()
        assert explorer.import_bar.isVisible()
    assert finished.args[0].total == 25
    after = state.read_db().execute_sql("SELECT count(*) FROM events").fetchone()[0]
    assert after == before + 25
    assert "imported 25 events" in explorer.import_label.text()
    assert not explorer.import_bar.isVisible()


def test_screenshot_with_a_selection(qtbot, explorer, artifacts_dir):
    x0, y0, x1, y1 = _biggest_cluster_box(explorer)
    explorer.select_rect(x0, y0, x1, y1)
    qtbot.waitUntil(lambda: explorer.model.rowCount() == min(len(explorer.selection), 5_000))
    explorer.select_rows([0, 1, 2])
    qtbot.wait(200)
    explorer.grab().save(str(artifacts_dir / "cluster_explorer.png"))
    update_doc_screenshot(artifacts_dir / "cluster_explorer.png", "cluster_explorer.png")
    assert (artifacts_dir / "cluster_explorer.png").stat().st_size > 10_000


def test_the_scatter_axes_show_the_projection_as_it_is(qtbot):
    """Projections of about 0.001 read "projection y (×0.001)" with ticks up to 800 on one axis
    while the other showed 0.5: no automatic unit prefix, the values themselves."""
    from selflow_qt.ui.docks.explorer_scatter import ClusterScatter

    scatter = ClusterScatter()
    qtbot.addWidget(scatter)
    scatter.resize(500, 400)
    scatter.show()
    xy = np.array([[-0.8, 0.0008], [1.0, -0.0008], [0.2, 0.0004]], dtype=np.float32)
    scatter.set_points(xy, np.array([0, 1, 1], dtype=np.int32))
    QApplication.processEvents()
    for side in ("left", "bottom"):
        axis = scatter.getPlotItem().getAxis(side)
        assert axis.autoSIPrefixScale == 1.0, side
        assert "×" not in axis.labelString() and "x0" not in axis.labelString(), side
