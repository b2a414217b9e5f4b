# huggingface_hub: its model-card templates (peft's save_pretrained writes a README.md from
# templates/modelcard_template.md) and its metadata. Its transfer backend hf_xet stays out.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402
from PyInstaller.utils.hooks import collect_data_files  # noqa: E402

datas = collect_data_files("huggingface_hub", includes=["templates/*"]) + metadata_of(
    "huggingface-hub"
)
excludedimports = ["hf_xet"]
