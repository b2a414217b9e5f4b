"""The text check: every string a user reads, in words, plural-correct, whole and not clipped.

``offences(texts, whole=...)`` names what is wrong with each shown string: an internal id
(``agent-p1-5b125d54``), a feature key (``act:shell/command``, ``dir:~/src``), a
code name (``epsilon_greedy``), a count read in
the plural after 1 (``1 days``), a source text cut mid-word (``top terms: shell/com``).
``widget_texts(widget)`` walks a shown widget's labels, buttons, group titles, table headers,
table cells and list items; it also reports a label, button or header whose text is wider than
the room it has (clipped). The tray menu's texts come from ``TrayMenu.texts()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ID = re.compile(r"\b(?:agent|model|run|session)-[\w-]*?[0-9a-f]{6,}\b|\b(?=\w*\d)[0-9a-f]{8,}\b")
FEATURE_KEY = re.compile(
    r"\b(?:act|verb|sub|arg|argext|ext|dir|cwd|dest|app|depth|nargs|flag|host|tool):\S"
    r"|\b(?:shell|fs|app|aw|system)/(?:command|create|modify|delete|move|launch|close|focus|afk)\b"
)
# A snake_case name (epsilon_greedy, training_policy) outside a path.
CLUSTER_NUMBER = re.compile(r"\bcluster \d+\b")  # a consensus label, not a name
CODE_NAME = re.compile(r"(?<![\w/~.-])[a-z]+(?:_[a-z0-9]+)+\b(?![/.])")
# "1 days", "1 analysis cycles", "1 active micro-agents": the counted noun after a 1 (past the
# words that may stand between) read in the plural. Nouns that end in s in the singular are not.
ONE = re.compile(r"(?<![\d.,])\b1 ((?:[A-Za-z-]+ ?){1,3})")
SINGULAR_S = re.compile(r"(?:ss|is|us|ics)$", re.I)
MODIFIERS = {
    "active",
    "scored",
    "analysis",
    "new",
    "queued",
    "held-out",
    "more",
    "other",
    "open",
    "running",
    "unread",
    "stored",
    "recorded",
    "live",
    "training",
    "shell",
    "file",
}


@dataclass(frozen=True)
class Offence:
    where: str
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.why}: {self.where}: {self.text!r}"


def _plain(text: str) -> str:
    """Rich text without its tags and entities (what the user reads)."""
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return (
        text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def _one_plural(text: str) -> str | None:
    for m in ONE.finditer(text):
        for word in m.group(1).split():
            if word.lower().endswith("s") and not SINGULAR_S.search(word):
                return f"1 {m.group(1).strip()}"
            if word.lower() not in MODIFIERS:
                break
    return None


def _cut(text: str, whole: Iterable[str]) -> str | None:
    """A source text shown only in part, cut inside a word."""
    for full in whole:
        if len(full) < 24 or full in text:
            continue
        for n in range(len(full) - 1, 19, -1):
            if full[n - 1].isalnum() and full[n].isalnum() and text.endswith(full[:n]):
                return full[:n]
    return None


def offences(texts: Iterable[tuple[str, str]], whole: Iterable[str] = ()) -> list[Offence]:
    """What is wrong with each (where, text): ids, feature keys, '1 days', cut words."""
    whole = [w for w in whole if w]
    out: list[Offence] = []
    for where, raw in texts:
        text = _plain(raw)
        if m := ID.search(text):
            out.append(Offence(where, text, f"internal id {m.group(0)!r}"))
        if m := FEATURE_KEY.search(text):
            out.append(Offence(where, text, f"feature key {m.group(0)!r}"))
        if m := CLUSTER_NUMBER.search(text):
            out.append(Offence(where, text, f"internal name {m.group(0)!r}"))
        if m := CODE_NAME.search(text):
            out.append(Offence(where, text, f"code name {m.group(0)!r}"))
        if plural := _one_plural(text):
            out.append(Offence(where, text, f"plural after 1 {plural!r}"))
        if cut := _cut(text, whole):
            out.append(Offence(where, text, f"cut mid-word after {cut[-12:]!r}"))
    return out


def menu_texts(tree: list, where: str = "tray") -> list[tuple[str, str]]:
    """(where, text) of every entry of ``TrayMenu.texts()``'s nested lists."""
    out: list[tuple[str, str]] = []
    for node in tree:
        if isinstance(node, dict):
            for title, children in node.items():
                out.append((where, title))
                out += menu_texts(children, f"{where} > {title}")
        elif node != "---":
            out.append((where, node))
    return out


def _past_parent(widget) -> bool:
    """A widget that reaches past its parent's edge (the parent cuts its text off); a parent
    that is a scroll area's viewport scrolls instead, so it does not count."""
    from PySide6.QtWidgets import QAbstractScrollArea

    parent = widget.parentWidget()
    if parent is None or isinstance(parent.parentWidget(), QAbstractScrollArea):
        return False
    return widget.geometry().right() > parent.rect().right() + 2


def widget_texts(root, where: str) -> tuple[list[tuple[str, str]], list[Offence]]:
    """(where, text) of what ``root`` shows, and the clipped labels, buttons and headers."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QGroupBox,
        QLabel,
        QListWidget,
        QTabBar,
        QTableWidget,
    )

    texts: list[tuple[str, str]] = []
    clipped: list[Offence] = []

    def shown(w) -> bool:
        return w.isVisibleTo(root) and w.isVisible()

    for label in root.findChildren(QLabel):
        text = QLabel.text(label)
        if not shown(label) or not text or not label.width():
            continue
        name = f"{where} label"
        texts.append((name, text))
        if label.wordWrap():
            need = label.heightForWidth(label.contentsRect().width())
            if need > label.contentsRect().height() + 2:
                clipped.append(
                    Offence(name, _plain(text), "clipped (wrapped text taller than its label)")
                )
        elif label.sizeHint().width() > label.width() + 2:
            clipped.append(Offence(name, _plain(text), "clipped (wider than its label)"))
        elif _past_parent(label):
            clipped.append(Offence(name, _plain(text), "clipped (runs past its box)"))
    for button in root.findChildren(QAbstractButton):
        if shown(button) and button.text():
            texts.append((f"{where} button", button.text()))
            if button.sizeHint().width() > button.width() + 2:
                clipped.append(Offence(f"{where} button", button.text(), "clipped (button)"))
    for box in root.findChildren(QGroupBox):
        if shown(box) and QGroupBox.title(box):  # a dock may shadow title() with a label
            texts.append((f"{where} group", QGroupBox.title(box)))
    for bar in root.findChildren(QTabBar):
        if shown(bar):
            texts += [(f"{where} tab", bar.tabText(i)) for i in range(bar.count())]
    for table in root.findChildren(QTableWidget):
        if not shown(table):
            continue
        header = table.horizontalHeader()
        metrics = header.fontMetrics()
        for c in range(table.columnCount()):
            item = table.horizontalHeaderItem(c)
            if item is None or header.isSectionHidden(c):
                continue
            text = item.text()
            texts.append((f"{where} table header", text))
            if text and metrics.horizontalAdvance(text) + 8 > header.sectionSize(c):
                clipped.append(Offence(f"{where} table header", text, "clipped (header)"))
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                item = table.item(r, c)
                if item is not None and item.text():
                    texts.append((f"{where} table cell", item.text()))
    for lst in root.findChildren(QListWidget):
        if shown(lst):
            texts += [(f"{where} list", lst.item(i).text()) for i in range(lst.count())]
    return texts, clipped
