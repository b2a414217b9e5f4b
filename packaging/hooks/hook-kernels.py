# kernels (Hugging Face hub kernels): transformers imports it when installed, and it reads its
# dependency table (kernels/_internals/python_depends.json) at import time; without that file
# every transformers model load in the bundle fails ("Cannot load dependency data").
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402
from PyInstaller.utils.hooks import collect_data_files  # noqa: E402

datas = collect_data_files("kernels") + metadata_of("kernels")
