"""How SelFlow names its own things for people: predictors, policies, analysis terms, long texts.

One home, so the tray, the docks and the CLI never show an internal id (``agent-p1-5b125d54``),
a feature key (``act:shell/command``) or a setting's code name (``epsilon_greedy``).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

ALL_ACTIVITY = "all activity"  # what the general agent (trained on no one pattern) is for

BANDIT_POLICY_WORDS = {
    "epsilon_greedy": "ε-greedy (explore at the rate below)",
    "thompson": "Thompson sampling",
    "ucb1": "UCB1 (optimism under uncertainty)",
}
TRAINING_POLICY_WORDS = {
    "when_idle": "when I am idle (one at a time)",
    "ask": "only when I ask (Train now)",
    "always": "as soon as one is queued (one at a time)",
}
ACTION_WORDS = {
    "shell/command": "shell commands",
    "fs/create": "new files",
    "fs/modify": "file changes",
    "fs/delete": "deleted files",
    "fs/move": "moved files",
    "app/launch": "app starts",
    "app/close": "app closes",
    "app/focus": "app switches",
    "aw/afk": "time away",
}
AGENT_ID = re.compile(r"\bagent-p\d+-[0-9a-f]+\b")


def bandit_policy_words(policy: str, epsilon: float | None = None) -> str:
    """'ε-greedy (ε = 0.10)', 'Thompson sampling'."""
    if policy == "epsilon_greedy":
        return "ε-greedy" + ("" if epsilon is None else f" (ε = {epsilon:.2f})")
    return BANDIT_POLICY_WORDS.get(policy, policy.replace("_", " "))


def predictor_name(arm_id: str, specialization: str | None = None, kind: str = "") -> str:
    """An agent by the pattern it was trained on; a baseline by its (readable) name."""
    if kind == "agent" or AGENT_ID.fullmatch(arm_id):
        return f"agent for {specialization}" if specialization else "an agent (pattern unnamed)"
    return arm_id


def name_agents(text: str, names: dict[str, str]) -> str:
    """``text`` with every agent id replaced by its name (``names``: id -> specialization)."""
    return AGENT_ID.sub(lambda m: predictor_name(m.group(0), names.get(m.group(0))), text)


def term_words(term: str) -> str:
    """One analysis term in words: 'act:fs/modify' -> 'file changes', 'ext:.py' -> '.py files',
    'dir:~/src' -> '~/src'; '' for terms that only say how (depth, argument counts, flags)."""
    kind, _, value = term.partition(":")
    if not value:
        return term
    if kind == "act":
        return ACTION_WORDS.get(value, value.replace("/", " "))
    if kind == "ext":
        return f"{value} files"
    if kind in ("dir", "cwd"):
        return "" if value == "~" else value  # "somewhere at home" says nothing
    if kind == "dest":
        return f"moves to {value}"
    if kind in ("depth", "nargs", "flag"):
        return ""
    return value  # verb, sub, arg, app, host: the word itself


def unnamed_group(label: int, algorithm: str = "consensus") -> str:
    """A cluster no pattern names (too small or unstable), or one method's own grouping."""
    if algorithm != "consensus":
        return (
            f"{algorithm.upper() if algorithm in ('gmm', 'hdbscan') else algorithm} group {label}"
        )
    return f"unnamed group {label}"


def terms_words(terms: list[str], limit: int = 6) -> str:
    """Distinct terms in words, comma-separated, at most ``limit``."""
    words: list[str] = []
    for t in terms:
        w = term_words(t)
        if w and w not in words:
            words.append(w)
    return ", ".join(words[:limit])


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut between words with '…'."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return textwrap.shorten(text, width, placeholder=" …")


def collection_line(
    collection: Any, *, live_capture: bool = True, paused: bool = False, started: bool = True
) -> str:
    """The one line the tray, the status bar and the dashboard give for collection:
    ``collection`` is the last ``CollectionState`` (None before it first reported)."""
    if not live_capture:
        return "Collection: off (a demo data folder records no live activity)"
    if paused:
        return "Collection: paused (tray menu → Resume collection)"
    if collection is None:
        return "Collection: starting…" if started else "Collection: off"
    return collection.summary()
