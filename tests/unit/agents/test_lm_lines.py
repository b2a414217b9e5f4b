"""The language model writes candidate lines: their features, the split, the ablation."""

from __future__ import annotations

import numpy as np

from selflow_qt.agents.model.dataset import examples_of
from selflow_qt.agents.model.lm_agent import split_points, trust_rows
from selflow_qt.agents.model.lm_trust import TrustRow, choose_weights
from selflow_qt.agents.model.lm_writer import GeneratedLine, copied_share, parse_line
from selflow_qt.agents.ranking.actions import candidate_full, keyed
from selflow_qt.agents.ranking.candidates import GEN_FEATURES, candidate_set
from selflow_qt.agents.ranking.history import History
from selflow_qt.agents.ranking.line_mix import RANKS, MixTrust, mixed_scores
from selflow_qt.agents.ranking.ranking_agent import RankingAgent, fit_ranking_agent
from selflow_qt.core.event import Event

F = {name: i for i, name in enumerate(GEN_FEATURES)}


def shell_stream(n: int) -> list[tuple[Event, str]]:
    cmds = ["cd /srv/app", "ls -la", "cat notes.txt", "git status", "make test"]
    evs = [
        Event(ts=1e9 + 9 * i, source="shell", action="command", cmd=cmds[i % 5], cwd="/srv")
        for i in range(n)
    ]
    return keyed(evs)


class FixedWriter:
    """Writes the same lines at every moment (these tests are not about the model's text)."""

    def __init__(self, lines: list[GeneratedLine]) -> None:
        self._lines = lines
        self.latencies_ms: list[float] = []

    def lines(self, context) -> list[GeneratedLine]:
        return list(self._lines)


def gen(
    full: str, rank: int = 0, logp: float = -0.5, copied: float = 0.5, tokens: int = 4
) -> GeneratedLine:
    key, full = parse_line(full)
    return GeneratedLine(key=key, full=full, logp=logp, rank=rank, copied=copied, tokens=tokens)


def mix(lam: float, chances: list[float]) -> np.ndarray:
    c = np.array(chances + [chances[-1]] * (RANKS - len(chances)))
    return MixTrust(lam, c).vector


def test_only_well_formed_lines_are_kept():
    assert parse_line("shell run ls -la /tmp") == ("shell run ls -la /tmp", "shell run ls -la /tmp")
    assert parse_line('shell run grep "a b" x') == (
        'shell run grep "…" x',
        'shell run grep "a b" x',
    )
    assert parse_line('shell run echo "unterminated') is None
    assert parse_line("shell run cat x |") is None
    assert parse_line("shell run") is None
    assert parse_line("fs modify ~/a.txt") == ("fs modify ~/a.txt", "fs modify ~/a.txt")
    assert parse_line("hello world again") is None


def test_copied_share_counts_the_words_taken_from_the_context():
    prompt = "mon 9h in /srv\n+0s shell run cat notes.txt\nnext:"
    assert copied_share("shell run cat notes.txt", prompt) == 1.0
    assert copied_share("shell run cat other.txt", prompt) == 0.5


def test_generated_lines_enter_the_candidate_set_with_their_features():
    stream = shell_stream(40)
    hist = History()
    for ev, key in stream[:30]:
        hist.observe(ev, key)
    ctx = stream[10:30]
    seen_line, new_line = gen("shell run git status", rank=1), gen("shell run rm -rf build", 0)
    cs = candidate_set(hist, ctx, generated=[new_line, seen_line])
    G = cs.gen_features()
    assert G.shape == (len(cs.keys), len(GEN_FEATURES))
    i = cs.fulls.index("shell run git status")  # counted already: marked, not repeated
    assert cs.fulls.count("shell run git status") == 1
    assert G[i, F["gen"]] == 1 and G[i, F["gen_only"]] == 0 and G[i, F["gen_seen"]] == 1
    assert G[i, F["gen_top"]] == 0.5
    j = cs.fulls.index("shell run rm -rf build")  # only the model proposed it
    assert G[j, F["gen_only"]] == 1 and G[j, F["gen_seen"]] == 0
    assert G[j, F["gen_logp"]] == -0.5 and G[j, F["gen_copied"]] == 0.5
    assert cs.X.shape[0] == len(cs.keys) == len(cs.examples)
    others = [r for r in range(len(cs.keys)) if r not in (i, j)]
    assert not G[others].any()


def test_the_three_way_split_never_overlaps():
    for start in (40, 100, 799, 1368, 20_000):
        sp = split_points(start)
        assert 0 < sp.lm_lo < sp.judge_lo < sp.start == start
    stream = shell_stream(200)
    sp = split_points(160)
    train, val = examples_of(stream, 1, sp.lm_lo), examples_of(stream, sp.lm_lo, sp.judge_lo)
    assert max(e.ts for e in train) < min(e.ts for e in val)
    assert max(e.ts for e in val) < stream[sp.judge_lo][0].ts
    agent = fit_ranking_agent("a", stream[: sp.lm_lo])
    assert agent.hist.n == sp.lm_lo  # the ranker has seen nothing of the slice
    rows = trust_rows(agent, FixedWriter([]), stream, sp.lm_lo, sp.start)
    assert len(rows) == sp.start - sp.lm_lo and agent.hist.n == sp.start


def test_with_its_lines_off_the_agent_answers_as_without_the_model():
    stream = shell_stream(300)
    for agent in (fit_ranking_agent("a", stream[:200]), RankingAgent("b", None)):
        if agent.model is None:
            agent.observe(stream[:200])
        plain = RankingAgent(agent.name, agent.model, fallback=agent.fallback)
        plain.observe(stream[:200], judge=False)
        agent.writer = FixedWriter([gen("shell run rm -rf build"), gen("shell run ls -la", 1)])
        agent.trust = np.zeros(len(GEN_FEATURES))
        assert not agent.writes_lines
        for i in range(200, 260):
            ctx = stream[i - 20 : i]
            lm_path = [candidate_full(c) for c in agent._written(ctx, 5)]
            assert lm_path == [candidate_full(c) for c in agent.predict(ctx, 5)]
            assert lm_path == [candidate_full(c) for c in plain.predict(ctx, 5)]
            agent.observe([stream[i]])
            plain.observe([stream[i]])


def test_a_line_the_model_is_sure_of_is_proposed_first():
    """The model writes the line with probability ~0.9 (a mean log-probability of -0.025 over
    4 tokens); with half the chance its share, it beats a first counted guess right 1 time in
    4."""
    stream = shell_stream(260)
    agent = fit_ranking_agent("a", stream[:200])
    agent.writer = FixedWriter([gen("shell run rm -rf build", logp=-0.025)])
    agent.trust = mix(0.5, [0.25, 0.1, 0.05])
    top = agent.predict(stream[180:200], 3)
    assert candidate_full(top[0]) == "shell run rm -rf build"
    assert top[0].key == "shell run rm -rf build"
    agent.trust = mix(0.0, [0.25, 0.1, 0.05])  # no share: the agent's own order
    assert "shell run rm -rf build" not in [
        candidate_full(c) for c in agent.predict(stream[180:200], 5)
    ]


def test_the_mixture_adds_the_models_chance_to_the_counted_one():
    base = np.array([-0.1, -0.5, -2.0, -3.0])  # counted, by the agent: rows 0, 1, 2, then 3
    G = np.zeros((4, len(GEN_FEATURES)))
    G[2, F["gen"]] = 1.0  # the model also wrote the third counted line, sure of it
    G[2, F["gen_total"]] = np.log(0.8)
    G[3, F["gen"]] = G[3, F["gen_only"]] = 1.0  # a line only the model wrote, unsure
    G[3, F["gen_total"]] = np.log(0.01)
    s = mixed_scores(base, G, MixTrust(0.5, np.array([0.3, 0.1] + [0.02] * (RANKS - 2)), 1.0))
    assert list(np.argsort(-s)) == [2, 0, 1, 3]
    assert np.isclose(np.exp(s[2]), 0.5 * 0.02 + 0.5 * 0.8, atol=1e-6)


def test_a_saved_agent_keeps_its_trust_in_the_model(tmp_path):
    stream = shell_stream(200)
    agent = fit_ranking_agent("a", stream)
    agent.trust = np.arange(len(GEN_FEATURES), dtype=float)
    agent.save(tmp_path)
    loaded = RankingAgent.load("a", tmp_path, stream)
    assert np.array_equal(loaded.trust, agent.trust) and loaded.writer is None


def test_the_beams_score_as_a_full_forward_pass_does(loaded_model):
    """Lines end at any token that starts a new word here, so the real model's beams finish in
    a few steps; each beam's mean log-probability equals the one from a plain forward pass."""
    import torch

    from selflow_qt.agents.model.lm_writer import LineWriter

    model, tok = loaded_model
    writer = LineWriter(model, tok, beams=3, max_new_tokens=6)
    writer._stops = [i for t, i in tok.get_vocab().items() if t.startswith("Ġ")]
    prompt = tok(
        "mon 9h in ~/proj\n+0s shell run git status\nnext: shell", add_special_tokens=False
    )
    beams = writer._beams(prompt["input_ids"])
    assert 1 <= len(beams) <= 3
    assert [s for _, s in beams] == sorted((s for _, s in beams), reverse=True)
    for toks, score in beams:
        ids = torch.tensor([prompt["input_ids"] + toks])
        with torch.inference_mode():
            logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
        n = len(prompt["input_ids"])
        full = sum(float(logp[n - 1 + j, t]) for j, t in enumerate(toks)) / len(toks)
        assert abs(full - score) < 1e-3


def test_a_moderately_trusted_line_reaches_the_five_shown():
    """A line the model gives a middling chance is shown among the five, not first."""
    stream = shell_stream(260)
    agent = fit_ranking_agent("a", stream[:200])
    agent.writer = FixedWriter([gen("shell run rm -rf build", logp=-0.4)])  # p ~0.2
    agent.trust = mix(0.2, [0.5, 0.2, 0.1, 0.05, 0.02, 0.01])
    ctx = stream[180:200]
    cs, _ = agent.lm_candidates(ctx, [])
    assert len(cs.keys) > 5
    top = [candidate_full(c) for c in agent.predict(ctx, 5)]
    assert "shell run rm -rf build" in top and top[0] != "shell run rm -rf build"


def test_lines_right_as_a_later_guess_are_kept_when_they_cost_no_first_guess():
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(120):
        base = -np.arange(7, dtype=float)  # the written line is the 7th: not among five shown
        G = np.zeros((7, len(GEN_FEATURES)))
        G[6, F["gen"]] = G[6, F["gen_only"]] = 1.0
        G[6, F["gen_total"]] = -0.5
        u = rng.random()
        rows.append(TrustRow(base, G, 0 if u < 0.6 else 6 if u < 0.9 else 1))
    w, report = choose_weights(rows)
    assert report["lm_val_share"] == 0 and report["lm_val_share5"] > 0
    assert report["lm_useful"] and w is not None


class _Cache:
    """The key/value cache's interface as the beam search uses it: the tokens of each row."""

    def __init__(self, rows: list[list[int]]) -> None:
        self.rows = rows

    def batch_repeat_interleave(self, n: int) -> None:
        self.rows = [list(r) for r in self.rows for _ in range(n)]

    def reorder_cache(self, index) -> None:
        self.rows = [list(self.rows[int(i)]) for i in index]


class _TableModel:
    """A language model given as a table: the next token's probabilities after each generated
    prefix (token 0 ends the line)."""

    def __init__(self, table: dict[tuple, dict[int, float]], prompt_len: int) -> None:
        import torch

        self.table, self.n = table, prompt_len
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def parameters(self):
        return iter([self.weight])

    def __call__(self, input_ids, past_key_values=None, **_):
        from types import SimpleNamespace

        import torch

        if past_key_values is None:
            past_key_values = _Cache([input_ids[0].tolist()])
        else:
            for row, tok in zip(past_key_values.rows, input_ids[:, 0].tolist(), strict=True):
                row.append(tok)
        logits = torch.full((len(past_key_values.rows), 1, 8), -1e9)
        for b, row in enumerate(past_key_values.rows):
            for tok, p in self.table.get(tuple(row[self.n :]), {0: 1.0}).items():
                logits[b, 0, tok] = float(np.log(p))
        return SimpleNamespace(logits=logits, past_key_values=past_key_values)


def test_the_beam_search_does_not_stop_at_the_first_short_lines():
    """Short lines finish first; the longer line with the best mean log-probability per token
    must still be found (the search used to stop at the first ``beams`` finished lines)."""
    from selflow_qt.agents.model.lm_writer import LineWriter

    a, b, c, d, e, x = 1, 2, 3, 4, 5, 6
    table = {
        (): {a: 0.45, b: 0.35, c: 0.2},
        (a,): {0: 0.5, x: 0.5},
        (a, x): {0: 1.0},
        (b,): {0: 0.55, x: 0.45},
        (c,): {d: 0.99, 0: 0.01},
        (c, d): {e: 0.99, 0: 0.01},
        (c, d, e): {0: 1.0},
    }

    class Tok:
        def __len__(self) -> int:
            return 8

    writer = LineWriter(_TableModel(table, 2), Tok(), beams=3, max_new_tokens=8)
    writer._stops = [0]
    lines = [toks for toks, _ in writer._beams([7, 7])]
    assert lines[0] == [c, d, e, 0]


def test_the_agent_and_its_ablation_are_fitted_again_on_everything_before_the_scored_part():
    """The slice decides how far to trust the model; the ranker then learns the slice too (a
    ranker fitted before it fell below counting on the training games)."""
    from selflow_qt.agents.model.lm_agent import add_written_lines

    stream = shell_stream(600)
    sp = split_points(480)
    agent = fit_ranking_agent("a", stream[: sp.lm_lo])
    writer = FixedWriter([gen("shell run rm -rf build")])
    final, no_lm, _ = add_written_lines(agent, writer, stream, sp)
    want = fit_ranking_agent("a", stream[: sp.start]).report["fit_positions"]
    assert want != agent.report["fit_positions"]
    assert final.report["fit_positions"] == no_lm.report["fit_positions"] == want
    assert no_lm.writer is None and final.writer is writer
