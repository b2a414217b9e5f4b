# transformers: sources on disk (its lazy import structure is built by scanning the package's .py
# files, and it inspects source), plus the metadata of every distribution whose version it checks.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import contrib_hook, metadata_of  # noqa: E402
from PyInstaller.utils.hooks import collect_submodules  # noqa: E402

_hook = contrib_hook("transformers")

module_collection_mode = "pyz+py"
datas = _hook.get("datas", []) + metadata_of(
    "transformers",
    "tokenizers",
    "huggingface-hub",
    "safetensors",
    "peft",
    "accelerate",
    "torch",
    "gguf",
    "tqdm",
    "regex",
    "requests",
    "packaging",
    "filelock",
    "numpy",
    "pyyaml",
    "fsspec",
    "sentencepiece",
)
# Loaded by name through the lazy module: the model family SelFlow trains (SmolLM2 = Llama), the
# GGUF loader and the generation utilities.
hiddenimports = (
    collect_submodules("transformers.models.llama")
    + collect_submodules("transformers.integrations")
    + collect_submodules("transformers.generation")
    + ["transformers.modeling_gguf_pytorch_utils"]
)
excludedimports = ["tensorflow", "flax", "jax", "keras", "torchvision", "torchaudio", "timm"]
