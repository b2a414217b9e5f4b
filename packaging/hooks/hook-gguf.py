# gguf: reads the bundled SmolLM2 GGUF; transformers checks its version through the metadata.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402
from PyInstaller.utils.hooks import collect_submodules  # noqa: E402

hiddenimports = collect_submodules("gguf", filter=lambda name: not name.startswith("gguf.scripts"))
datas = metadata_of("gguf")
