"""The language model writes candidate lines: a short beam search after the agent's prompt.

From the same compact context the adapter is trained on (``actions.render_prompt``), the model
proposes a few next lines itself: beam search over at most ``MAX_NEW_TOKENS`` tokens, each beam
stopped at the end of a line, in inference mode with the key/value cache (the prompt is encoded
once and shared by every beam). Lines that are not well-formed actions are dropped. Each line
keeps what the ranker needs to judge it: its length-normalised log-probability, its rank in the
beam and the share of its words copied from the context. A converted model
(``fast_runtime.FastModel``) runs the same search with CTranslate2's beam search.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from selflow_qt.agents.model.dataset import CONTEXT_LINES
from selflow_qt.agents.model.fast_runtime import FastModel
from selflow_qt.agents.ranking.actions import action_key, full_key, render_prompt
from selflow_qt.agents.ranking.predictors import Context
from selflow_qt.core.event import Event

MAX_NEW_TOKENS = 24
BEAMS = 3
MAX_PROMPT_TOKENS = 176
# Tokens a search goes on once ``beams`` lines are finished (a cut line's longer, better form
# ends within a few; going on to the budget cost 3-4x the answer time on 2 cores)
EXTRA_STEPS = 4
CACHE = 8  # recent prompts whose lines are kept (predict, judge and suggest ask alike)
_KINDS = {"fs": ("create", "modify", "delete", "move"), "app": ("open", "close")}


@dataclass
class GeneratedLine:
    """One line the model wrote: its action key, exact line (``full_key`` form) and scores."""

    key: str
    full: str
    logp: float  # mean log-probability per generated token
    rank: int  # 0: the beam's best
    copied: float  # share of the line's words that occur in the context
    tokens: int = 1  # generated tokens, with the line's end

    @property
    def total(self) -> float:
        """The model's log-probability of writing exactly this line after the prompt."""
        return self.logp * self.tokens


def parse_line(text: str, like: Event | None = None) -> tuple[str, str] | None:
    """(key, full) of a generated target line, or None when it is not a well-formed action."""
    text = " ".join(text.split())
    if not text or any(ord(ch) < 32 for ch in text):
        return None
    source, _, rest = text.partition(" ")
    verb, _, target = rest.partition(" ")
    if not target:
        return None
    if source == "shell" and verb == "run":
        if target.count('"') % 2 or target.count("'") % 2 or target.endswith(("|", "\\")):
            return None  # an unbalanced quote or a cut pipe is not a line anyone typed
        ev = Event(
            ts=like.ts if like else 0.0,
            source="shell",
            action="command",
            cmd=target,
            cwd=like.cwd if like else None,
        )
        key, full = action_key(ev), full_key(ev)
        return (key, full) if key and full else None
    if verb in _KINDS.get(source, ()):
        return text, text
    return None


def copied_share(full: str, prompt: str) -> float:
    """Share of the line's words (after ``<source> <verb>``) that occur in the prompt."""
    words = full.split()[2:]
    if not words:
        return 0.0
    seen = set(" ".join(prompt.splitlines()[1:]).split())
    return sum(w in seen for w in words) / len(words)


@dataclass
class LineWriter:
    """Writes the next lines for a context with a (LoRA-adapted) causal LM; remembers the last
    few prompts' answers and how long each answer took (``latencies_ms``)."""

    model: object
    tok: object
    context_lines: int = CONTEXT_LINES
    beams: int = BEAMS
    max_new_tokens: int = MAX_NEW_TOKENS
    # bf16 autocast re-casts the weights at every step: measured on 2 cores (50 answers, a
    # 30-step adapter) float32 p50 314 / p95 567 ms, autocast 796 / 1,599 ms, bf16 weights
    # 378 / 608 ms. Off by default.
    bf16: bool = False
    latencies_ms: list[float] = field(default_factory=list)
    _cache: OrderedDict = field(default_factory=OrderedDict)
    _stops: list[int] | None = None

    def stop_ids(self) -> list[int]:
        """Every token whose text holds a line break (a beam ends there), and end of text."""
        if self._stops is None:
            vocab = self.tok.get_vocab()
            ids = [i for t, i in vocab.items() if "\n" in self.tok.convert_tokens_to_string([t])]
            if self.tok.eos_token_id is not None:
                ids.append(self.tok.eos_token_id)
            self._stops = sorted(set(ids))
        return self._stops

    def lines(self, context: Context) -> list[GeneratedLine]:
        ctx = list(context)
        prompt = render_prompt(ctx, self.context_lines)
        if prompt in self._cache:
            self._cache.move_to_end(prompt)
            return self._cache[prompt]
        t0 = time.perf_counter()
        out = self._generate(prompt, ctx[-1][0] if ctx else None)
        self.latencies_ms.append((time.perf_counter() - t0) * 1000)
        self._cache[prompt] = out
        while len(self._cache) > CACHE:
            self._cache.popitem(last=False)
        return out

    def _generate(self, prompt: str, last: Event | None) -> list[GeneratedLine]:
        ids = self.tok(prompt, add_special_tokens=False)["input_ids"][-MAX_PROMPT_TOKENS:]
        out: list[GeneratedLine] = []
        fulls: set[str] = set()
        for rank, (toks, score) in enumerate(self._beams(ids)):
            text = self.tok.decode(toks, skip_special_tokens=True).split("\n")[0]
            parsed = parse_line(text, last)
            if parsed is None or parsed[1] in fulls:
                continue
            fulls.add(parsed[1])
            out.append(
                GeneratedLine(
                    key=parsed[0],
                    full=parsed[1],
                    logp=score,
                    rank=rank,
                    copied=copied_share(parsed[1], prompt),
                    tokens=len(toks),
                )
            )
        return out

    def _beams(self, ids: list[int]) -> list[tuple[list[int], float]]:
        """Beam search over whole lines: (tokens up to and with the line's end, mean
        log-probability per token), best first. The prompt is encoded once; its key/value cache
        is repeated for the beams and reordered as they are pruned. ``beams`` lines stay alive
        at every step; one that ends its line is set aside (its score length-normalised) and the
        search goes on until no live beam can still beat the ``beams``-th finished line (the
        usual length heuristic: its sum over the current length), ``EXTRA_STEPS`` tokens after
        that line, or the token budget.
        Stopping at the first ``beams`` finished lines, as before, kept short cut-off lines
        ("cat research-5") and lost the longer right one ("cat research-5.data"). Unfinished
        beams are not lines and are dropped. Plain forward passes: the library's generic beam
        search costs several times more per step on a CPU.
        A ``FastModel`` runs CTranslate2's beam search (``beams`` wide, the same stops and
        length normalisation; it stops once ``beams`` lines are finished)."""
        if isinstance(self.model, FastModel):
            return self.model.beams(ids, self.beams, self.max_new_tokens, self.stop_ids())
        import torch

        device = next(self.model.parameters()).device
        stops = torch.zeros(len(self.tok), dtype=torch.bool)
        stops[self.stop_ids()] = True
        done: list[tuple[list[int], float]] = []
        with (
            torch.inference_mode(),
            torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16),
        ):
            res = self.model(
                input_ids=torch.tensor([ids], device=device), use_cache=True, logits_to_keep=1
            )
            cache = res.past_key_values
            logp = torch.log_softmax(res.logits[:, -1].float(), -1).cpu()
            seqs: list[list[int]] = [[]]
            cum = torch.zeros(1)
            settled_at: int | None = None
            for step in range(self.max_new_tokens):
                width = logp.shape[-1]
                total = (cum[:, None] + logp).reshape(-1)
                top = torch.topk(total, min(len(total), 2 * self.beams))
                keep_rows, keep_tok, keep_sum = [], [], []
                for v, flat in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                    row, tok = divmod(flat, width)
                    if stops[tok]:
                        done.append((seqs[row] + [tok], v / (step + 1)))
                    elif len(keep_rows) < self.beams:
                        keep_rows.append(row)
                        keep_tok.append(tok)
                        keep_sum.append(v)
                if len(done) >= self.beams and settled_at is None:
                    settled_at = step
                if (
                    not keep_rows
                    or self._settled(done, max(keep_sum), step + 1)
                    or (settled_at is not None and step - settled_at >= EXTRA_STEPS)
                ):
                    break
                n = len(keep_rows)
                seqs = [seqs[r] + [t] for r, t in zip(keep_rows, keep_tok, strict=True)]
                cum = torch.tensor(keep_sum)
                index = torch.tensor(keep_rows, device=device)
                if step == 0:
                    cache.batch_repeat_interleave(n)  # every live beam grows from the prompt
                else:
                    cache.reorder_cache(index)
                res = self.model(
                    input_ids=torch.tensor([[t] for t in keep_tok], device=device),
                    past_key_values=cache,
                    use_cache=True,
                )
                cache = res.past_key_values
                logp = torch.log_softmax(res.logits[:, -1].float(), -1).cpu()
        done.sort(key=lambda d: -d[1])
        return done[: self.beams]

    def _settled(self, done: list, best_alive: float, length: int) -> bool:
        """True when ``beams`` lines are finished and the best live beam, scored over its
        current length, is below the worst of them (the heuristic of the transformers library's
        beam search without early stopping)."""
        if len(done) < self.beams:
            return False
        worst_kept = sorted((d[1] for d in done), reverse=True)[self.beams - 1]
        return best_alive / length < worst_kept
