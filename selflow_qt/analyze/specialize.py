"""Which stable patterns deserve a micro-agent; queue them as training sessions.

A pattern qualifies when it has (1) at least ``settings.specialize_min_sequences`` sessions of
three or more events, (2) no active agent and no queued or running session for it, and (3) a
first-order Markov model of its next action beats the most-frequent-action baseline by at least
``PREDICTABILITY_MARGIN`` on the later 30% of its sessions (trained on the earlier 70%).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from selflow_qt.analyze.dataset import EventTable
from selflow_qt.analyze.features import FeatureSet, command_tokens, extension
from selflow_qt.analyze.patterns import PatternSummary
from selflow_qt.store.models import MicroAgent, TrainingSession

PREDICTABILITY_MARGIN = 0.05
MIN_SEQUENCE_LEN = 3


@dataclass
class Decision:
    pattern_id: int
    queue: bool
    reason: str
    sequences: int
    markov_acc: float
    baseline_acc: float
    session_id: int | None = None


def action_token(
    source: str, action: str, path: str | None, app: str | None, cmd: str | None
) -> str:
    """A coarse next-action symbol: source/action plus the command verb, extension or app."""
    key = ""
    if cmd:
        toks = [x for x in command_tokens(cmd) if x.startswith(("sub:", "verb:"))]
        key = toks[-1].split(":", 1)[1] if toks else ""
    elif path:
        key = extension(path)
    elif app:
        key = app
    return f"{source}/{action}:{key}"


def event_action_tokens(t: EventTable, fs: FeatureSet) -> np.ndarray:
    """Every event's action token, computed once per distinct event signature."""
    first = np.full(fs.terms.shape[0], -1, dtype=np.int64)
    order = np.arange(len(fs.inverse))[::-1]
    first[fs.inverse[order]] = order  # an event of each signature
    sig = np.array(
        [
            action_token(t.source[i], t.action[i], t.path[i], t.app[i], t.cmd[i])
            for i in first.tolist()
        ],
        dtype=object,
    )
    return sig[fs.inverse]


def sequences_of(tokens: np.ndarray, idx: np.ndarray, segments: np.ndarray) -> list[list[str]]:
    """The pattern's events split into sessions (time order), as action-token lists."""
    groups: dict[int, list[str]] = defaultdict(list)
    for i, seg in zip(idx.tolist(), segments[idx].tolist(), strict=True):
        groups[seg].append(tokens[i])
    return [s for _, s in sorted(groups.items()) if len(s) >= MIN_SEQUENCE_LEN]


def predictability(seqs: list[list[str]]) -> tuple[float, float]:
    """(Markov accuracy, most-frequent baseline accuracy) on the later 30% of sequences."""
    cut = max(1, int(len(seqs) * 0.7))
    train, test = seqs[:cut], seqs[cut:] or seqs[-1:]
    freq = Counter(x for s in train for x in s[1:])
    nxt: dict[str, Counter] = defaultdict(Counter)
    for s in train:
        for a, b in zip(s, s[1:], strict=False):
            nxt[a][b] += 1
    top = freq.most_common(1)[0][0] if freq else ""
    hits_m = hits_b = total = 0
    for s in test:
        for a, b in zip(s, s[1:], strict=False):
            guess = nxt[a].most_common(1)[0][0] if nxt.get(a) else top
            hits_m += guess == b
            hits_b += top == b
            total += 1
    return (hits_m / total, hits_b / total) if total else (0.0, 0.0)


def _covered(pattern_id: int, model_id: str) -> str | None:
    """Why the pattern needs no new training, if it needs none. An active agent covers it only
    if it learned these very events (``model_id`` carries their digest); an agent of the pattern
    trained before it gained events is retrained (a new session, under a new id)."""
    prefix = f"agent-p{pattern_id}-"
    if MicroAgent.select().where(MicroAgent.is_active, MicroAgent.model_id == model_id).exists():
        return "an active agent was trained on these events"
    if (
        TrainingSession.select()
        .where(
            TrainingSession.model_id.startswith(prefix),
            TrainingSession.status.in_(("queued", "training")),
        )
        .exists()
    ):
        return "a training session is already queued"
    return None


def _retrains(pattern_id: int) -> str | None:
    """The active agent of the pattern that a new session would replace (None: a first one)."""
    prefix = f"agent-p{pattern_id}-"
    agent = (
        MicroAgent.select(MicroAgent.model_id)
        .where(MicroAgent.is_active, MicroAgent.model_id.startswith(prefix))
        .order_by(MicroAgent.created_at.desc())
        .first()
    )
    return None if agent is None else agent.model_id


def decide_and_queue(
    db,
    table: EventTable,
    labels: np.ndarray,
    fs: FeatureSet,
    patterns: list[PatternSummary],
    *,
    min_sequences: int = 20,
    max_models: int = 5,
) -> list[Decision]:
    """One decision per pattern; qualifying ones become ``queued`` training_sessions rows."""
    decisions = []
    queued = 0
    tokens = event_action_tokens(table, fs)
    for p in sorted(patterns, key=lambda p: -p.event_count):
        idx = np.flatnonzero(labels == p.cluster_label)
        seqs = sequences_of(tokens, idx, fs.segments)
        acc_m, acc_b = predictability(seqs) if seqs else (0.0, 0.0)
        d = Decision(p.pattern_id, False, "", len(seqs), round(acc_m, 3), round(acc_b, 3))
        digest = hashlib.sha256(table.ids[idx].tobytes()).hexdigest()
        model_id = f"agent-p{p.pattern_id}-{digest[:8]}"
        covered = _covered(p.pattern_id, model_id)
        if len(seqs) < min_sequences:
            d.reason = f"only {len(seqs)} sessions (needs {min_sequences})"
        elif covered:
            d.reason = covered
        elif acc_m < acc_b + PREDICTABILITY_MARGIN:
            d.reason = f"next action not predictable beyond frequency ({acc_m:.2f} vs {acc_b:.2f})"
        elif queued >= max_models:
            d.reason = f"already queued {max_models} this cycle (max_models)"
        else:
            previous = _retrains(p.pattern_id)
            why = f"{len(seqs)} sessions; next action {acc_m:.2f} vs baseline {acc_b:.2f}"
            if previous:
                why = f"retrain ({previous} predates this pattern's newest events); " + why
            with db.atomic():
                ts = TrainingSession.create(
                    model_id=model_id,
                    status="queued",
                    training_data_size=len(idx),
                    metadata={
                        "pattern_id": p.pattern_id,
                        "pattern_name": p.name,
                        "reason": why,
                        "sequences": len(seqs),
                        "data_hash": digest,
                        "retrains": previous,
                    },
                )
            d.queue, d.session_id, d.reason = True, ts.id, "queued"
            queued += 1
        decisions.append(d)
    return decisions
