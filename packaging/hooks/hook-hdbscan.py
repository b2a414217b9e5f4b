# hdbscan: compiled Cython parts imported from Python wrappers; no tests; no plotting.
from PyInstaller.utils.hooks import collect_submodules

hiddenimports = collect_submodules("hdbscan", filter=lambda name: ".tests" not in name)
excludedimports = ["matplotlib", "seaborn", "pandas.plotting"]
