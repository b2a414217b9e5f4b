# pynndescent: numba-jitted (cache=True), so its sources go on disk; version read from metadata.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402

module_collection_mode = "pyz+py"
datas = metadata_of("pynndescent")
