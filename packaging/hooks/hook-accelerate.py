# accelerate: its metadata (transformers and peft check its version) and sources on disk.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402

module_collection_mode = "pyz+py"
datas = metadata_of("accelerate")
excludedimports = ["bitsandbytes", "deepspeed", "torch_xla", "tensorboard", "wandb", "mlflow"]
