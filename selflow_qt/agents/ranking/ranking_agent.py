"""The micro-agent predictor: count models + context features + edits, combined by a ranker.

``fit_ranking_agent`` builds one from a keyed stream; ``predict`` ranks the candidate set at the
current moment; ``observe`` learns every event that really happened (online), so its counts stay
as fresh as the baselines' and it keeps an online record of who guessed right lately (see
``leader``). A language model may write candidate lines itself (``writer``, see ``lm_writer``),
mixed with the counted ones by the model's share of the next line's chance (``line_mix``, fitted
by ``lm_trust``), and may add one more signal to the top
candidates (``lm_weight``, see ``lm_feature``); with neither, nothing here imports torch or
scikit-learn and a suggestion costs about a millisecond.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from selflow_qt.agents.ranking.actions import Candidate, candidate_full
from selflow_qt.agents.ranking.candidates import CandidateSet, add_generated, candidate_set
from selflow_qt.agents.ranking.edits import EditModel
from selflow_qt.agents.ranking.history import History
from selflow_qt.agents.ranking.line_mix import trusted_scores
from selflow_qt.agents.ranking.predictors import (
    BASELINE_IDS,
    BaselinePredictor,
    Context,
    make_baselines,
)
from selflow_qt.agents.ranking.ranker import (
    PRIOR_DEPTH,
    BoostedRanker,
    choose,
    first_guesses,
    prior_of,
    walk,
)

FIT_FRACTION = 0.75  # at least the last three quarters of the training split fit the ranker,
MIN_FIT_POSITIONS = 1500  # and at least this many positions (all of a short stream),
MAX_FIT_POSITIONS = 3000  # but no more than this many
CONTEXT_EVENTS = 20
GEN_FLOOR_RANK = 5  # a line only the model wrote starts just below this rank (the hit@5 list)
RECORD_HALF_LIFE = 100.0  # events
SWITCH_MARGIN = 2.0  # recent hits by which another baseline must lead to take over
JUDGED_REPLAY = 300  # a loaded agent rebuilds its online record from this many latest events
STATE_FILE = "ranker.json"
MODEL_FILE = "ranker.npz"


@dataclass
class RankingAgent:
    """A next-action predictor (``predict``/``observe``) with the ranker's weights (``state``)."""

    name: str
    model: BoostedRanker | None  # None: answer as ``fallback`` does
    fallback: str = "markov-2"  # the baseline the ranker starts from (its prior)
    hist: History = field(default_factory=History)
    edits: EditModel = field(default_factory=EditModel)
    baselines: dict[str, BaselinePredictor] = field(default_factory=make_baselines)
    report: dict = field(default_factory=dict)
    lm_scorer: Callable[[Context, list[str]], list[float] | None] | None = None
    lm_weight: float = 0.0  # added to the ranker's score per unit of normalised LM log-prob
    lm_top: int = 5  # only the ranker's top candidates are scored by the LM
    # The model's own lines (an ``lm_writer.LineWriter``) and the weights of their features
    # (``lm_trust``); None: the model writes nothing.
    writer: Any = None
    trust: np.ndarray | None = None
    # Online record of first guesses (the ranker's and every baseline's), each hit weighted by
    # its age (half-life RECORD_HALF_LIFE); see ``leader``.
    record: dict[str, float] = field(default_factory=dict)

    @property
    def uses_ranker(self) -> bool:
        return self.model is not None

    @property
    def leader(self) -> str:
        """Who answers now: the ranker while its record is at least the fallback's; another
        baseline only while its record leads both by SWITCH_MARGIN (so noise does not flip it)."""
        rec = self.record.get
        mine = (
            "ranker" if self.model is not None and rec("ranker", 0) >= rec(self.fallback, 0) else ""
        )
        best = mine or self.fallback
        others = [b for b in self.baselines if b != self.fallback]
        if others:
            other = max(others, key=lambda n: rec(n, 0.0))
            if rec(other, 0.0) > rec(best, 0.0) + SWITCH_MARGIN:
                return other
        return best

    def seed_record(self, hits: dict[str, list[bool]]) -> None:
        """Start the online record from first-guess hits on the positions just before now
        (oldest first, the same positions for every name), aged as ``observe`` ages them."""
        n = max((len(h) for h in hits.values()), default=0)
        if n == 0:
            return
        weight = (0.5 ** (1.0 / RECORD_HALF_LIFE)) ** np.arange(n - 1, -1, -1, dtype=float)
        self.record = {name: float(weight @ np.asarray(h, dtype=float)) for name, h in hits.items()}
        self.record["_weight"] = float(weight.sum())

    def live_rates(self) -> dict[str, float]:
        """Recent hit@1 of the ranker and of each baseline (age-weighted, half-life 100 events)."""
        judged = self.record.get("_weight", 0.0)
        return {n: v / judged for n, v in self.record.items() if n != "_weight" and judged > 0}

    def live_margin(self) -> float | None:
        """What this agent answers, recently, minus the best baseline's recent hit@1 (None before
        any event was judged). The Micro-Agents dock's live margin."""
        rates = self.live_rates()
        base = [v for n, v in rates.items() if n in self.baselines]
        if not base:
            return None
        return rates.get(self.leader, 0.0) - max(base)

    @property
    def ranker_active(self) -> bool:
        return self.leader == "ranker"

    def observe(self, stream: Context, judge: bool = True) -> None:
        """Learn events that really happened, oldest first; with ``judge``, first score what the
        ranker and the fallback would have guessed for each (the online record)."""
        learners = {id(b.counts): b for b in self.baselines.values()}
        decay = 0.5 ** (1.0 / RECORD_HALF_LIFE)
        for ev, key in stream:
            if judge and self.hist.tail:
                ctx = self.hist.tail[-CONTEXT_EVENTS:]
                tops = {n: b.predict(ctx, 1) for n, b in self.baselines.items()}
                if self.model is not None:
                    tops["ranker"] = self._ranked(ctx, 1)
                for name, top in tops.items():
                    hit = bool(top) and top[0].key == key
                    self.record[name] = self.record.get(name, 0.0) * decay + hit
                self.record["_weight"] = self.record.get("_weight", 0.0) * decay + 1.0
            self.hist.observe(ev, key)
            self.edits.observe(ev)
            for b in learners.values():
                b.update([(ev, key)])

    def candidate_set(self, context: Context) -> tuple[CandidateSet, dict[str, np.ndarray]]:
        """The candidates with their features, and their ranks in each baseline's list."""
        lists = {
            n: [c.key for c in b.predict(context, PRIOR_DEPTH)] for n, b in self.baselines.items()
        }
        cs = candidate_set(self.hist, context, self.edits, first_guesses(lists))
        return cs, {n: prior_of(cs.keys, ranked) for n, ranked in lists.items()}

    def base_ranking(self, context: Context, k: int) -> list[Candidate]:
        """The ranker's (or the fallback's) best ``k``, scored as log-probabilities."""
        leader = self.leader
        if leader != "ranker":
            cands = self.baselines[leader].predict(context, k)
            for r, c in enumerate(cands):
                c.score = -math.log(r + 1.0)  # a rank as a log-probability-like score
            return cands
        return self._ranked(context, k)

    def _ranked(self, context: Context, k: int) -> list[Candidate]:
        cs, priors = self.candidate_set(context)
        scores = np.log(np.clip(self.model.scores(cs.X, priors), 1e-9, None))
        order = [int(i) for i in np.argsort(-scores, kind="stable")[:k]]
        return [
            Candidate(
                key=cs.keys[i],
                score=float(scores[i]),
                example=cs.examples[i],
                extra={"full": cs.fulls[i]},
            )
            for i in order
        ]

    @property
    def writes_lines(self) -> bool:
        return self.writer is not None and self.trust is not None and bool(np.any(self.trust))

    def lm_candidates(self, context: Context, lines: list) -> tuple[CandidateSet, np.ndarray]:
        """The candidate set with the model's ``lines`` added, and each row's base score: the
        leader's (the ranker's log-probability, or -log(1 + rank) in the baseline it answers
        as), lines only the model wrote 1 below the ``GEN_FLOOR_RANK``-th best (where an agent
        saved with the older linear trust ranks by these; the mixture ranks the counted rows by
        them and places the model's lines by its own probability)."""
        lists = {n: b.predict(context, PRIOR_DEPTH) for n, b in self.baselines.items()}
        keys = {n: [c.key for c in ranked] for n, ranked in lists.items()}
        cs = candidate_set(self.hist, context, self.edits, first_guesses(keys))
        leader = self.leader
        if leader == "ranker":
            priors = {n: prior_of(cs.keys, ranked) for n, ranked in keys.items()}
            base = np.log(np.clip(self.model.scores(cs.X, priors), 1e-9, None))
        else:
            ranked = lists[leader]
            pos = {c.key: r for r, c in reversed(list(enumerate(ranked)))}
            base = np.array([-math.log(1.0 + pos.get(k, PRIOR_DEPTH)) for k in cs.keys])
            for i, key in enumerate(cs.keys):  # its lines as the baseline shows them
                if key in pos:
                    cs.fulls[i] = candidate_full(ranked[pos[key]])
                    cs.examples[i] = ranked[pos[key]].example
        n0 = len(cs.keys)
        add_generated(cs, self.hist, lines, context)
        # Just below the fifth: below the lowest, as before, a written line needed a weight of
        # ~20 to be shown at all, and lm_trust never fitted one (hit5_novel 0 on every stream).
        floor = (float(np.sort(base)[::-1][min(GEN_FLOOR_RANK, n0) - 1]) if n0 else 0.0) - 1.0
        return cs, np.concatenate([base, np.full(len(cs.keys) - n0, floor)])

    def _written(self, context: Context, k: int) -> list[Candidate]:
        cs, base = self.lm_candidates(context, self.writer.lines(context))
        scores = trusted_scores(base, cs.gen_features(), self.trust)
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        out, fulls = [], set()
        for i in order:  # one candidate per exact line
            if cs.fulls[i] in fulls:
                continue
            fulls.add(cs.fulls[i])
            out.append(
                Candidate(cs.keys[i], float(scores[i]), cs.examples[i], {"full": cs.fulls[i]})
            )
            if len(out) >= k:
                break
        return out

    def predict(self, context: Context, k: int) -> list[Candidate]:
        use_lm = self.lm_scorer is not None and self.lm_weight > 0
        n = max(k, self.lm_top) if use_lm else k
        cands = self._written(context, n) if self.writes_lines else self.base_ranking(context, n)
        if use_lm and cands:
            head = cands[: self.lm_top]
            lm = self.lm_scorer(context, [c.key for c in head])
            if lm is not None:  # None: a served model's answer is not in yet (model_server)
                for c, v in zip(head, lm, strict=True):
                    c.score += self.lm_weight * v
                cands = sorted(head, key=lambda c: -c.score) + cands[self.lm_top :]
        return cands[:k]

    def save(self, folder: Path) -> None:
        """Write the ranker into an agent folder (the counts are rebuilt from the store's events)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            self.model.save(folder / MODEL_FILE)
        state = {
            "fallback": self.fallback,
            "lm_weight": self.lm_weight,
            "lm_trust": None if self.trust is None else self.trust.tolist(),
            "report": self.report,
        }
        (folder / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, name: str, folder: Path, history: Context = ()) -> RankingAgent:
        """The agent saved in ``folder``, having learned ``history`` (oldest first)."""
        folder = Path(folder)
        try:
            state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
            blob = folder / MODEL_FILE
            model = BoostedRanker.load(blob) if blob.exists() else None
        except (OSError, ValueError) as exc:
            raise ValueError(f"{folder}: cannot read the agent's ranker: {exc}") from None
        agent = cls(
            name,
            model,
            fallback=state.get("fallback") or "markov-2",
            report=state.get("report") or {},
            lm_weight=float(state.get("lm_weight") or 0.0),
        )
        if state.get("lm_trust"):
            agent.trust = np.asarray(state["lm_trust"], dtype=float)
        history = list(history)
        agent.observe(history[:-JUDGED_REPLAY], judge=False)
        agent.observe(history[-JUDGED_REPLAY:])
        return agent


def fit_ranking_agent(
    name: str,
    stream: Context,
    *,
    fit_fraction: float = FIT_FRACTION,
    max_fit_positions: int = MAX_FIT_POSITIONS,
) -> RankingAgent:
    """An agent that has learned all of ``stream``; its ranker is fitted on the last part."""
    stream = list(stream)
    n = len(stream)
    size = min(max_fit_positions, max(int(n * fit_fraction), min(n - 1, MIN_FIT_POSITIONS)))
    fit_start = max(1, n - size)
    agent = RankingAgent(name, None)
    win = walk(stream, fit_start, n, agent.hist, agent.edits, agent.baselines, CONTEXT_EVENTS)
    choice = choose(win)
    agent.model, agent.report = choice.model, choice.report
    agent.fallback = choice.prior if choice.prior in BASELINE_IDS else "markov-2"
    if agent.model is None:
        # Without a ranker the leader is a baseline: it starts from their validation record.
        # A ranker was kept because it beat them all on validation, so it starts as the leader.
        agent.seed_record(choice.val_top1)
    return agent
