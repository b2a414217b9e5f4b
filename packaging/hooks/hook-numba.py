# numba (umap and pynndescent jit with it): the contrib hook plus numba's and llvmlite's metadata.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import contrib_hook, metadata_of  # noqa: E402

_hook = contrib_hook("numba")
hiddenimports = _hook.get("hiddenimports", [])
excludedimports = _hook.get("excludedimports", [])
datas = metadata_of("numba", "llvmlite")
