"""The notifications table: what the tray tells the user once."""

from __future__ import annotations

import time

from selflow_qt.store.models import Notification


def add_notification(kind: str, title: str, body: str, data: dict | None = None) -> None:
    Notification.create(kind=kind, title=title, body=body, data=data or {})


def notified_since(since: float) -> list[dict]:
    """The data of every notification created after ``since``."""
    rows = Notification.select().where(Notification.created_at > since)
    return [dict(n.data or {}) for n in rows]


def notified_today_about(key: str, value) -> bool:
    """Whether a notification of the last 24 hours has ``data[key] == value``."""
    return any(d.get(key) == value for d in notified_since(time.time() - 86_400))
