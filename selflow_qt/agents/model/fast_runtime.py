"""The served model on a CPU runtime made for it: the agent's LoRA adapter merged into the base
model and converted to CTranslate2 (int8 weights), in ``<agent>/ct2``.

The model process writes lines (``FastModel.beams``) and scores candidates (``FastModel.score``)
with it, without torch: on 2 shared cores it answered 2-4x sooner than the torch path
(bench/served_model.py, bench/lm_latency.py), and the process holds the int8 weights and the
tokenizer (~400 MB) instead of torch, transformers and float32 weights (~1,050 MB). ``convert_agent`` runs where torch is loaded (after training, or in a child the model
process starts when it finds an adapter without a current conversion); a conversion that fails is
logged and the model process serves with torch. Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FAST_DIR = "ct2"
STAMP_FILE = "selflow-source.json"  # what the conversion was made from
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
QUANTIZATION = "int8"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
CONVERT_LIMIT_S = 900.0
PATIENCE = 2.0  # finished lines sought: beams x patience (see FastModel.beams)
# Answers kept for contexts seen again: (prompt, target) scores and the lines written after a
# prompt (a few hundred bytes each). The same four lines in the same hour and folder recur, and
# recomputing their answer costs as much as the first time (each event re-encodes its prompt).
SCORES_KEPT = 4096
LINES_KEPT = 512


def fast_dir(folder: Path) -> Path:
    return Path(folder) / FAST_DIR


def source_stamp(folder: Path) -> dict[str, Any]:
    """What a conversion of ``folder`` is made from: the adapter's files and the base model."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        digest.update((folder / name).read_bytes())
    meta = json.loads((folder / "agent.json").read_text(encoding="utf-8"))
    return {"adapter": digest.hexdigest(), "base_model": meta.get("base_model"), "q": QUANTIZATION}


def is_current(folder: Path) -> bool:
    """True when ``<folder>/ct2`` was converted from the adapter and base model now in place."""
    try:
        stamp = json.loads((fast_dir(folder) / STAMP_FILE).read_text(encoding="utf-8"))
        return stamp == source_stamp(folder)
    except (OSError, ValueError):
        return False


def convert_agent(folder: Path, data_dir: Path) -> Path:
    """Merge the adapter in ``folder`` into its base model (PEFT ``merge_and_unload``), convert
    the result to CTranslate2 int8 with its tokenizer, and move it into ``<folder>/ct2`` at once
    (files 0600). Raises on failure; an older conversion is replaced only by a complete one."""
    from selflow_qt.agents.model.base_model import BaseModelSpec, load_base_model, offline_env

    offline_env()
    from peft import PeftModel

    folder = Path(folder)
    meta = json.loads((folder / "agent.json").read_text(encoding="utf-8"))
    base, tok = load_base_model(BaseModelSpec(**meta["base_model"]), Path(data_dir), "cpu")
    merged = PeftModel.from_pretrained(base, str(folder)).merge_and_unload()
    return write_fast(merged, tok, folder)


def write_fast(merged, tok, folder: Path) -> Path:
    """Convert ``merged`` (the base with ``folder``'s adapter merged in) with its tokenizer to
    CTranslate2 int8 and move it into ``<folder>/ct2`` at once (files 0600), stamped with what
    it was made from. Raises on failure; an older conversion is replaced only by a complete one.
    The training child calls it on the model it just trained (no second load of the base)."""
    from ctranslate2.converters import TransformersConverter

    from selflow_qt.core.child import run_folder

    folder = Path(folder)
    stamp = source_stamp(folder)
    work = run_folder("convert")
    tmp = folder / f".{FAST_DIR}.tmp-{os.getpid()}"
    old = folder / f".{FAST_DIR}.old-{os.getpid()}"
    try:
        merged.save_pretrained(str(work / "merged"))
        tok.save_pretrained(str(work / "merged"))
        shutil.rmtree(tmp, ignore_errors=True)
        converter = TransformersConverter(
            str(work / "merged"), copy_files=list(TOKENIZER_FILES), low_cpu_mem_usage=True
        )
        converter.convert(str(tmp), quantization=QUANTIZATION, force=True)
        (tmp / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
        for path in tmp.iterdir():
            path.chmod(0o600)
        target = fast_dir(folder)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def stage_adapter(pmodel, folder: Path, base_model: str) -> Path:
    """Save a trained adapter into ``folder`` with what its conversion's stamp is made of (an
    agent's own agent.json replaces it)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pmodel.save_pretrained(str(folder))
    (folder / "agent.json").write_text(json.dumps({"base_model": base_model}), encoding="utf-8")
    return folder


def convert_trained(pmodel, tok, folder: Path) -> FastModel:
    """The adapter staged in ``folder`` merged into its base and converted (``write_fast``),
    loaded. Raises on failure."""
    return FastModel.load(write_fast(pmodel.merge_and_unload(), tok, folder))


def convert_child(channel, data_dir: str, folder: str) -> str:
    """``convert_agent`` in a child process (torch is loaded there, not in the model process)."""
    return str(convert_agent(Path(folder), Path(data_dir)))


def ensure_fast(folder: Path, data_dir: Path, should_stop=None) -> FastModel | None:
    """The agent's CTranslate2 model, converted first (in a child process) when there is none
    current; None when the runtime is missing or the conversion failed (logged: the caller
    serves with torch)."""
    from selflow_qt.core import supervisor

    folder = Path(folder)
    if not (folder / ADAPTER_WEIGHTS).exists():
        return None
    if not is_current(folder):
        child = supervisor.start(
            convert_child,
            str(data_dir),
            str(folder),
            kind="convert",
            data_dir=Path(data_dir),
            what="the model's conversion",
            time_limit_s=CONVERT_LIMIT_S,
        )
        done = child.wait(should_stop=should_stop)
        if done is None or not done.ok:
            log.warning(
                "the model's conversion to CTranslate2 failed (%s); serving it with torch",
                done.message if done is not None else "stopped",
            )
            return None
    try:
        return FastModel.load(fast_dir(folder))
    except Exception as exc:  # noqa: BLE001 - any load failure leaves the torch path
        log.warning("the CTranslate2 model did not load (%s); serving it with torch", exc)
        return None


def threads() -> tuple[int, int]:
    """(workers, threads per worker): one worker with the machine's cores (at most 4). Two
    workers of one thread each, scoring on one while the other writes lines, answered later on
    2 shared cores at load ~10 (bench/served_model.py --lines: p50 1,414-1,593 against 966 ms)."""
    return 1, max(1, min(4, os.cpu_count() or 1))


@dataclass
class TextTokenizer:
    """The few tokenizer calls the line writer and the scorer make, on the ``tokenizers``
    library alone (transformers' AutoTokenizer would bring torch into the model process)."""

    backend: Any  # tokenizers.Tokenizer
    eos_token_id: int | None
    pad_token_id: int | None

    @classmethod
    def load(cls, folder: Path) -> TextTokenizer:
        from tokenizers import Tokenizer

        backend = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        config = json.loads((Path(folder) / "tokenizer_config.json").read_text(encoding="utf-8"))

        def token_id(name: str) -> int | None:
            token = config.get(name)
            if isinstance(token, dict):
                token = token.get("content")
            return backend.token_to_id(token) if isinstance(token, str) else None

        eos = token_id("eos_token")
        pad = token_id("pad_token")
        return cls(backend, eos, pad if pad is not None else eos)

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        return {"input_ids": self.backend.encode(text, add_special_tokens=add_special_tokens).ids}

    def __len__(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        return self.backend.get_vocab(with_added_tokens=True)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return self.backend.decoder.decode(tokens)

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.backend.id_to_token(i) for i in ids]

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens)


@dataclass
class FastModel:
    """A converted model: CTranslate2's generator with its tokenizer. It keeps the answers it
    gave for the most recent prompts (``SCORES_KEPT`` scores, ``LINES_KEPT`` beam searches):
    a context seen again is answered from them, exactly as computed the first time."""

    generator: Any  # ctranslate2.Generator
    tok: TextTokenizer
    patience: float = PATIENCE
    _stop_tokens: dict = field(default_factory=dict)
    _scores: OrderedDict = field(default_factory=OrderedDict)  # (prompt, target) -> sum
    _lines: OrderedDict = field(default_factory=OrderedDict)  # search -> beams' lines

    @classmethod
    def load(
        cls, folder: Path, intra_threads: int = 0, compute_type: str = QUANTIZATION
    ) -> FastModel:
        """``intra_threads`` 0: ``threads()``; otherwise one worker with that many threads."""
        import ctranslate2

        inter, intra = threads() if not intra_threads else (1, intra_threads)
        generator = ctranslate2.Generator(
            str(folder),
            device="cpu",
            compute_type=compute_type,
            inter_threads=inter,
            intra_threads=intra,
        )
        return cls(generator, TextTokenizer.load(folder))

    def beams(
        self, ids: list[int], beams: int, max_new_tokens: int, stops: list[int]
    ) -> list[tuple[list[int], float]]:
        """Beam search after ``ids``, each line ended at one of ``stops`` (kept in its tokens):
        (tokens, mean log-probability per token), best first, as ``LineWriter._beams``."""
        key = tuple(stops)
        if key not in self._stop_tokens:  # each set of stops once: (its number, its tokens)
            self._stop_tokens[key] = (len(self._stop_tokens), self.tok.convert_ids_to_tokens(stops))
        number, stop_tokens = self._stop_tokens[key]
        search = (tuple(ids), beams, max_new_tokens, number, self.patience)
        found = self._lines.get(search)
        if found is None:
            found = self._search(ids, beams, max_new_tokens, stops, stop_tokens)
        _keep(self._lines, search, found, LINES_KEPT)
        return [(list(toks), score) for toks, score in found]

    def _search(
        self,
        ids: list[int],
        beams: int,
        max_new_tokens: int,
        stops: list[int],
        stop_tokens: list[str],
    ) -> list[tuple[list[int], float]]:
        ends = set(stops)
        (res,) = self.generator.generate_batch(
            [self.tok.convert_ids_to_tokens(ids)],
            beam_size=beams,
            num_hypotheses=beams,
            patience=self.patience,
            max_length=max_new_tokens,
            length_penalty=1.0,
            end_token=stop_tokens,
            return_end_token=True,
            include_prompt_in_result=False,
            return_scores=True,
        )
        out = [
            (list(toks), float(score))
            for toks, score in zip(res.sequences_ids, res.scores, strict=True)
            if toks and toks[-1] in ends  # a line cut at the token budget is not a line
        ]
        out.sort(key=lambda d: -d[1])
        return out

    def score(self, prompt_ids: list[int], targets: list[list[int]]) -> list[float]:
        """The sum of the log-probabilities of each target's tokens after the prompt; targets
        not scored after this prompt before are scored together in one batch."""
        prompt = tuple(prompt_ids)
        pairs = [(prompt, tuple(t)) for t in targets]
        got = {p: self._scores[p] for p in pairs if p in self._scores}
        todo = [p for p in dict.fromkeys(pairs) if p not in got]
        if todo:
            seqs = [self.tok.convert_ids_to_tokens(prompt_ids + list(t)) for _, t in todo]
            for (p, t), r in zip(todo, self.generator.score_batch(seqs), strict=True):
                got[(p, t)] = float(sum(r.log_probs[-len(t) :]))
        for pair in pairs:
            _keep(self._scores, pair, got[pair], SCORES_KEPT)
        return [got[p] for p in pairs]

    def forget(self) -> None:
        """Drop the kept answers (benchmarks time the answers computed)."""
        self._scores.clear()
        self._lines.clear()


def _keep(cache: OrderedDict, key, value, most: int) -> None:
    """``cache[key] = value`` as its newest entry, the oldest dropped past ``most``."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > most:
        cache.popitem(last=False)
