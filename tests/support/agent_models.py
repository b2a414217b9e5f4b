"""A real LoRA adapter on the real base model, written without training, and its CTranslate2
conversion made once per machine (tests of the served model start from a copy)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

ADAPTER_CONFIG = "adapter_config.json"


def write_adapter(folder: Path, smollm_dir: Path, r: int = 4, b_std: float = 0.0) -> None:
    """A LoRA adapter on q_proj and v_proj as PEFT starts one (``b_std`` 0: B = 0, the base
    model's output; above 0 it changes what the model says, so a merge shows), written without
    loading the model: training is not what these tests are about."""
    import numpy as np
    from safetensors.numpy import save_file

    cfg = json.loads((smollm_dir / "config.json").read_text())
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    kv_out = cfg.get("num_key_value_heads", heads) * (hidden // heads)
    rng = np.random.default_rng(0)
    tensors = {}
    for i in range(cfg["num_hidden_layers"]):
        for name, out in (("q_proj", hidden), ("v_proj", kv_out)):
            pre = f"base_model.model.model.layers.{i}.self_attn.{name}"
            tensors[f"{pre}.lora_A.weight"] = rng.normal(0, 0.02, (r, hidden)).astype(np.float32)
            tensors[f"{pre}.lora_B.weight"] = rng.normal(0, b_std, (out, r)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / ADAPTER_CONFIG).write_text(json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": 2 * r,
        "lora_dropout": 0.0, "target_modules": ["q_proj", "v_proj"], "bias": "none",
        "base_model_name_or_path": str(smollm_dir), "inference_mode": True,
    }))  # fmt: skip


def write_agent_meta(folder: Path, smollm_dir: Path, model_id: str = "agent-m") -> None:
    spec = {"kind": "path", "location": str(smollm_dir), "description": "test"}
    meta = {"model_id": model_id, "base_model": spec, "context_lines": 4, "top_targets": []}
    (folder / "agent.json").write_text(json.dumps(meta))


def converted_agent(smollm_dir: Path) -> Path:
    """An agent folder with a real adapter (B not 0) and its CTranslate2 conversion, made once
    in the test model cache (the conversion takes ~20-40 s on 2 cores) and reused while current."""
    from selflow_qt.agents.model.fast_runtime import convert_agent, is_current

    folder = Path(tempfile.gettempdir()) / "selflow-test-model-cache" / "agent-ct2"
    write_adapter(folder, smollm_dir, b_std=0.05)
    write_agent_meta(folder, smollm_dir)
    if not is_current(folder):
        convert_agent(folder, folder.parent)
    return folder
