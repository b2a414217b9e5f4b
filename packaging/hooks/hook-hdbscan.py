# hdbscan: compiled Cython parts imported from Python wrappers, and its metadata; no tests, no plots.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import metadata_of  # noqa: E402
from PyInstaller.utils.hooks import collect_submodules  # noqa: E402

hiddenimports = collect_submodules("hdbscan", filter=lambda name: ".tests" not in name)
datas = metadata_of("hdbscan")
excludedimports = ["matplotlib", "seaborn", "pandas.plotting"]
