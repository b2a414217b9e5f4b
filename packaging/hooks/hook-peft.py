# peft: sources on disk (it reads signatures of wrapped modules), every tuner, and its metadata.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402
from PyInstaller.utils.hooks import collect_submodules  # noqa: E402

module_collection_mode = "pyz+py"
hiddenimports = collect_submodules("peft", filter=lambda name: ".tests" not in name)
datas = metadata_of("peft", "accelerate", "safetensors", "huggingface-hub", "psutil", "pyyaml")
# bitsandbytes only serves quantised training on CUDA; SelFlow trains in float32 on the CPU.
excludedimports = ["bitsandbytes", "torchao", "optimum", "gptqmodel", "auto_gptq", "awq", "eetq"]
