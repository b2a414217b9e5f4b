"""The tray menu, built once from a data spec and updated in place from a TraySnapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle

from selflow_qt.core.format import clock_duration, count, pct
from selflow_qt.core.ranking import earns_medal
from selflow_qt.core.wording import name_agents, predictor_name, shorten
from selflow_qt.store.queries.tray import (
    FOCUS_TIME_DEFINITION,
    WORKFLOW_EFFICIENCY_DEFINITION,
    TraySnapshot,
)
from selflow_qt.ui.medals import medal_icon

Text = Callable[["MenuData"], str]


@dataclass
class MenuData:
    """Everything the menu shows: the store snapshot, the current suggestions, the collection."""

    snap: TraySnapshot
    suggestions: list = field(default_factory=list)
    collection: Any = None  # workers.jobs.CollectionState, once collection has reported
    collection_line: str = ""  # AppState.collection_line(): the same line the status bar shows


def _collection(d: MenuData) -> str:
    """What collection does, or which collector stopped seeing events and why (one line)."""
    if d.collection_line:
        return d.collection_line
    return "Collection: not running" if d.collection is None else d.collection.summary()


@dataclass
class Item:
    """A menu entry: fixed or computed text, what choosing it does (a command name)."""

    key: str
    text: str | Text
    command: str | None = None
    tooltip: str = ""


@dataclass
class Sub:
    """A submenu whose title may be computed; its children are items, lists or separators."""

    key: str
    title: str | Text
    children: list = field(default_factory=list)
    tooltip: str = ""


@dataclass
class Rows:
    """A variable list of entries: ``rows(data)`` gives (text, payload) pairs; ``empty`` if none."""

    key: str
    rows: Callable[[MenuData], list[tuple]]  # (text, payload[, icon])
    command: str
    empty: str


SEP = None
KIND_ICONS = {
    "file": QStyle.StandardPixmap.SP_FileIcon,
    "app": QStyle.StandardPixmap.SP_DesktopIcon,
    "command": QStyle.StandardPixmap.SP_CommandLink,
}


def _hdbscan(d: MenuData) -> str:
    n = d.snap.hdbscan_patterns
    if n is None and d.snap.analysis_runs:  # the latest run was too small for HDBSCAN
        return f"Advanced Pattern Explorer ({count(d.snap.patterns_total, 'pattern')})"
    if n is None:
        return "Advanced Pattern Explorer (no analysis yet)"
    return f"Advanced Pattern Explorer (HDBSCAN: {count(n, 'pattern')})"


def _agents_title(d: MenuData) -> str:
    return (
        f"Micro-Agents ({len(d.snap.agents)} active, {d.snap.training.get('training', 0)} training)"
    )


def _hot_rows(d: MenuData) -> list[tuple[str, Any]]:
    return [
        (f"{p.name} — {p.confidence:.0%} confidence ({p.today:,} today)", p.pattern_id)
        for p in d.snap.hot
    ]


def _agent_rows(d: MenuData) -> list[tuple]:
    rows = []
    for rank, a in enumerate(d.snap.agents):
        name = a.specialization or predictor_name(a.model_id)
        if a.total_queries:
            text = f"{name} — {a.success_rate:.0%} success ({count(a.total_queries, 'query', 'queries')})"
        else:
            text = f"{name} — no queries yet"
        medal = medal_icon(rank) if earns_medal(a.total_queries, a.success_rate) else None
        rows.append((text, a.model_id, medal))
    return rows


def _suggestion_text(s: Any, names: dict[str, str] | None = None) -> str:
    # The score's scale depends on the predictor (a share, a log-probability): not shown as a %.
    what = f"$ {s.cmd}" if s.kind == "command" and s.cmd else s.text
    by = predictor_name(s.predictor, (names or {}).get(s.predictor))
    return f"{what}  (by {by})"


def _suggestion_rows(d: MenuData) -> list[tuple]:
    names = {a.model_id: a.specialization for a in d.snap.agents}
    return [(_suggestion_text(s, names), s, KIND_ICONS.get(s.kind)) for s in d.suggestions]


def _note_rows(d: MenuData) -> list[tuple[str, Any]]:
    names = {a.model_id: a.specialization for a in d.snap.agents}
    return [
        (shorten(name_agents(f"{n['title']}: {n['body']}", names), 90), n["id"])
        for n in d.snap.notifications
    ]


def _consensus(d: MenuData) -> str:
    c = d.snap.consensus_score
    return "Cluster Analysis" + ("" if c is None else f" (consensus {c:.2f})")


MENU_SPEC: list = [
    Item(
        "dashboard",
        lambda d: f"Live Dashboard ({count(d.snap.events_today, 'event')} today)",
        "dock:dashboard",
    ),
    Item("explorer", _hdbscan, "dock:clusters"),
    SEP,
    Sub(
        "today",
        "Today's Activity",
        [
            Sub(
                "hot",
                lambda d: f"Hot Patterns ({len(d.snap.hot)})",
                [
                    Rows(
                        "hot-rows", _hot_rows, "dock:clusters", "No patterns yet: run an analysis"
                    ),
                ],
            ),
            Item(
                "file-ops",
                lambda d: f"File Operations: {d.snap.file_ops_today:,} today",
                "dock:dashboard",
            ),
            Item(
                "focus",
                lambda d: f"Focus Time: {clock_duration(d.snap.focus_seconds)}",
                "dock:dashboard",
                FOCUS_TIME_DEFINITION,
            ),
            Item(
                "efficiency",
                lambda d: f"Workflow Efficiency: {pct(d.snap.workflow_efficiency, 'n/a')}",
                "dock:dashboard",
                WORKFLOW_EFFICIENCY_DEFINITION,
            ),
        ],
    ),
    Sub(
        "agents",
        _agents_title,
        [
            Rows("agent-rows", _agent_rows, "dock:agents", "No micro-agents trained yet"),
            SEP,
            Item("performance", "Performance Dashboard", "dock:agents"),
        ],
    ),
    Sub(
        "training",
        "Training Center",
        [
            Item("data", lambda d: f"Data: {d.snap.buffer_percent:.1f}% full", "dock:training"),
            Item(
                "queue",
                lambda d: f"Training Queue ({d.snap.training.get('queued', 0)} queued)",
                "dock:training",
            ),
            Item("cluster-analysis", _consensus, "dock:clusters"),
            Item("model-performance", "Model Performance", "dock:agents"),
            Item("training-settings", "Training Settings…", "settings"),
        ],
    ),
    Sub(
        "insights",
        "Data Insights",
        [
            Item(
                "learning",
                lambda d: f"Learning Progress ({count(d.snap.analysis_runs, 'analysis run')})",
                "dock:insights",
            ),
            Item("multi-cluster", "Multi-Cluster Analysis", "dock:clusters"),
            Item("trends", "Trend Detection", "dock:insights"),
            Item("optimisations", "Optimization Suggestions", "dock:insights"),
        ],
    ),
    SEP,
    Sub(
        "up-next",
        "Up next",
        [Rows("suggestions", _suggestion_rows, "choose", "No predictions yet")],
    ),
    Sub(
        "notifications",
        lambda d: f"Notifications ({d.snap.notifications_unread} new)",
        [
            Rows("note-rows", _note_rows, "notification", "Nothing new"),
            SEP,
            Item("mark-read", "Mark All as Read", "mark-read"),
        ],
    ),
    SEP,
    Item("import", "Import…", "import", "Import shell histories, ActivityWatch exports or JSONL"),
    Item("analyze-now", "Run analysis now", "analyze"),
    Item("collection", _collection, "dock:dashboard"),
    Item("pause", "Pause collection", "pause"),
    Item("settings", "Settings…", "settings"),
    Item("refresh", "Refresh Data", "refresh"),
    Item("quit", "Quit SelFlow", "quit"),
]


class TrayMenu:
    """Builds a QMenu from MENU_SPEC once; ``apply`` updates every text in place."""

    def __init__(self, on_command: Callable[[str, Any], None], spec: list | None = None) -> None:
        self.on_command = on_command
        self.menu = QMenu()
        self.menu.setObjectName("tray-menu")
        self.menu.setToolTipsVisible(True)
        self.actions: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self._computed: list[tuple[QAction, Callable]] = []
        self._rows: list[tuple[QMenu, QAction | None, Rows, list[QAction]]] = []
        self._build(self.menu, spec if spec is not None else MENU_SPEC)

    def _build(self, menu: QMenu, spec: list) -> None:
        for node in spec:
            if node is SEP:
                menu.addSeparator()
            elif isinstance(node, Item):
                a = menu.addAction(node.text if isinstance(node.text, str) else node.key)
                a.setObjectName(node.key)
                if node.tooltip:
                    a.setToolTip(node.tooltip)
                if node.command:
                    a.triggered.connect(lambda _=False, c=node.command: self.on_command(c, None))
                if not isinstance(node.text, str):
                    self._computed.append((a, node.text))
                self.actions[node.key] = a
            elif isinstance(node, Sub):
                sub = menu.addMenu(node.title if isinstance(node.title, str) else node.key)
                sub.setObjectName(node.key)
                sub.setToolTipsVisible(True)
                if not isinstance(node.title, str):
                    self._computed.append((sub.menuAction(), node.title))
                self.menus[node.key] = sub
                self.actions[node.key] = sub.menuAction()
                self._build(sub, node.children)
            elif isinstance(node, Rows):
                anchor = menu.addSeparator()  # rows are inserted before this (invisible) marker
                anchor.setVisible(False)
                self._rows.append((menu, anchor, node, []))

    def apply(self, data: MenuData) -> None:
        """Update every computed text and every row list in place."""
        for action, fn in self._computed:
            action.setText(fn(data))
        for menu, anchor, node, pool in self._rows:
            rows = node.rows(data) or [(node.empty, None)]
            while len(pool) < len(rows):
                a = QAction(menu)
                a.triggered.connect(lambda _=False, a=a, c=node.command: self._row(c, a))
                menu.insertAction(anchor, a)
                pool.append(a)
            for a, row in zip(pool, rows, strict=False):
                text, payload = row[0], row[1]
                icon = row[2] if len(row) > 2 else None
                if isinstance(icon, QStyle.StandardPixmap):
                    icon = QApplication.style().standardIcon(icon)
                a.setIcon(icon if icon is not None else QIcon())
                a.setText(text)
                a.setData(payload)
                a.setEnabled(payload is not None)
                a.setVisible(True)
                a._payload = payload  # Python objects (suggestions) survive as attributes
            for a in pool[len(rows) :]:
                a.setVisible(False)

    def _row(self, command: str, action: QAction) -> None:
        self.on_command(command, getattr(action, "_payload", None))

    def texts(self, menu: QMenu | None = None) -> list:
        """The visible menu as nested lists of texts (submenus as {title: [...]}) for dumps/tests."""
        out: list = []
        for a in (menu or self.menu).actions():
            if not a.isVisible():
                continue
            if a.menu() is not None:
                out.append({a.text(): self.texts(a.menu())})
            elif a.isSeparator():
                out.append("---")
            else:
                out.append(a.text())
        return out
