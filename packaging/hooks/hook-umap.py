# umap-learn: its version is read from the metadata at import; sources on disk so numba can
# cache the jitted functions next to a real file; no plotting/parametric extras (optional imports).
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402

module_collection_mode = "pyz+py"
datas = metadata_of("umap-learn")
excludedimports = ["matplotlib", "datashader", "bokeh", "holoviews", "tensorflow", "keras"]
