"""Test hooks of the running app (plugged in by run_app.py), driven over the control socket.

They call the same code the UI calls: ``import`` sends a real QDropEvent with the file's URL to
the Cluster Explorer (its drop handler runs), ``train`` calls ``AppState.start_training`` as the
Training Center's button does, with a small ``max_steps``. With ``SELFLOW_DUMP_TRAY=FILE`` the
tray menu's texts are written to FILE each time the menu changes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget


def _plain(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if is_dataclass(obj):
        return asdict(obj)
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


DUMP_ENV = "SELFLOW_DUMP_TRAY"  # a path: the menu's texts are written there after each change


class HookRecorder:
    """Remembers what the tests ask about: trainings, imports, analyses, progress; dumps the tray
    menu where ``SELFLOW_DUMP_TRAY`` says."""

    def __init__(self, desktop) -> None:
        state = desktop.state
        self.training: list = []
        self.progress: list = []
        self.imports: list = []
        self.analyses: list = []
        self.errors: list[str] = []
        state.trainingProgress.connect(lambda p: self.progress.append(_plain(p)))
        state.trainingFinished.connect(lambda o: self.training.append(_plain(o)))
        state.importFinished.connect(
            lambda r: self.imports.append({**_plain(r), "total": getattr(r, "total", 0)})
        )
        state.analysisFinished.connect(lambda r: self.analyses.append(getattr(r, "run_id", None)))
        state.analysisFailed.connect(self.errors.append)
        dump_path = os.environ.get(DUMP_ENV)
        if dump_path:
            tray = desktop.tray
            tray.menuChanged.connect(lambda data: dump_tray(tray, data, Path(dump_path)))


def dump_tray(tray, data, path: Path) -> None:
    """The menu's texts and the data it shows, as JSON in ``path`` (replaced whole)."""
    payload = {
        "time": time.time(),
        "menu": tray.menu.texts(),
        "snapshot": asdict(data.snap),
        "suggestions": [_plain(s) for s in data.suggestions],
        "refresh_ms": tray.last_refresh_ms,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def grab_menu(tray, submenu_key: str | None = None) -> QPixmap:
    """The tray menu (and one open submenu beside it) rendered into one image."""
    menu = tray.menu.menu
    tray.menu.apply(tray.data)
    menu.popup(QPoint(20, 20))
    QApplication.processEvents()
    main = menu.grab()
    images = [main]
    if submenu_key and submenu_key in tray.menu.menus:
        sub = tray.menu.menus[submenu_key]
        sub.popup(QPoint(20 + main.width(), 20))
        QApplication.processEvents()
        images.append(sub.grab())
        action = tray.menu.actions[submenu_key]
        offset = menu.actionGeometry(action).top()
        sub.hide()
    else:
        offset = 0
    menu.hide()
    width = sum(im.width() for im in images)
    height = max(main.height(), offset + (images[1].height() if len(images) > 1 else 0))
    out = QPixmap(width, height)
    out.fill()
    p = QPainter(out)
    p.drawPixmap(0, 0, main)
    if len(images) > 1:
        p.drawPixmap(main.width(), offset, images[1])
    p.end()
    return out


def deliver_drop(widget: QWidget, paths: list[str]) -> None:
    """A real QDropEvent with file URLs, sent to ``widget``: the same handler a mouse drop runs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(
        pos.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)


def _loss_points(window) -> int:
    """How many points the Training Center's loss curve currently draws."""
    dock = window.docks.get("training")
    curve = getattr(dock.widget(), "loss_curve", None) if dock is not None else None
    item = getattr(curve, "item", None)
    xs = item.getData()[0] if item is not None else None
    return 0 if xs is None else len(xs)


def run_test_command(desktop, line: str) -> str:
    parts = line.split(maxsplit=2)
    cmd, args = parts[0], parts[1:]
    state, window = desktop.state, desktop.window
    rec: HookRecorder = desktop.recorder
    if cmd == "dock":
        return "ok" if window.show_dock(args[0]) is not None else "error no such dock"
    if cmd == "analyze":
        return "ok" if state.start_analysis("manual") else "error busy"
    if cmd == "queue-training":
        state.queue_training(int(args[0]) if args else None)
        return "ok"
    if cmd == "train":
        max_steps = int(args[0]) if args else None
        sid = int(args[1]) if len(args) > 1 else None
        window.show_dock("training")
        return "ok" if state.start_training(sid, max_steps) else "error busy"
    if cmd == "import":
        path = line.split(maxsplit=1)[1]
        widget = window.show_dock("clusters")
        if widget is None:
            state.import_paths([path])
            return "ok (no Cluster Explorer: imported through AppState.import_paths)"
        deliver_drop(widget, [path])
        return "ok"
    if cmd == "grab":
        target, path = args[0], args[1]
        if target.startswith("menu"):
            key = target.split(":", 1)[1] if ":" in target else None
            pm = grab_menu(desktop.tray, key)
        elif target.startswith("dock:"):
            w = window.show_dock(target.split(":", 1)[1])
            QApplication.processEvents()
            pm = w.grab() if w is not None else QPixmap()
        elif target == "screen" or target.startswith("window:"):
            # the X screen (the tray panel and an open menu included) or one X window by id, as
            # the window system shows it: Qt's own screen grab, no screenshot program
            QApplication.processEvents()
            xid = int(target.split(":", 1)[1], 0) if ":" in target else 0
            pm = QApplication.primaryScreen().grabWindow(xid)
        else:
            window.show()
            QApplication.processEvents()
            pm = window.grab()
        return "ok" if pm.save(path) else "error could not save"
    if cmd == "state":
        built = getattr(window, "created", True)  # never build the window just to look at it
        docks = window.docks if built else {}
        return json.dumps(
            {
                "time": time.time(),
                "analysis_running": state.analysis_running,
                "training_running": state.training_running,
                "training_session_id": state.training_session_id,
                "trainings": rec.training,
                "progress_count": len(rec.progress),
                "last_progress": rec.progress[-1] if rec.progress else None,
                "imports": rec.imports,
                "analyses": rec.analyses,
                "errors": rec.errors,
                "window_visible": window.isVisible(),
                "window_built": built,
                "docks": sorted(docks),
                "visible_docks": sorted(
                    k for k, d in docks.items() if d.isVisible() and not d.visibleRegion().isEmpty()
                ),
                "loss_points_drawn": _loss_points(window) if built else 0,
                "has_tray": desktop.has_tray,
                "collection": _plain(state.collection),
                "modules": {
                    m: m in __import__("sys").modules
                    for m in ("torch", "transformers", "pyqtgraph", "numpy")
                },
            },
            default=str,
        )
    if cmd == "quit":
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, desktop.quit)
        return "ok"
    return f"error unknown command {cmd!r}"
