"""The Qt binding keeps Python's reference counts: PySide6 6.12.0 dropped a reference to True on
every Signal.emit(), so a long session or test run died with "bool_dealloc" (exit 134)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    value = Signal(object)
    bare = Signal()


def test_emitting_signals_does_not_eat_references_to_true_or_none(qapp):
    e = _Emitter()
    e.value.connect(lambda v: None)
    e.bare.connect(lambda: None)
    before = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for _ in range(200):
        e.value.emit(None)
        e.bare.emit()
    after = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, 0, 0]
