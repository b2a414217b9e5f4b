# SelFlow itself: every submodule (CLI command modules are imported by name, the training child is
# started with ``-m``) and the resources folder (icons, stylesheet) next to the package.
from pathlib import Path

from PyInstaller.utils.hooks import collect_submodules, get_package_paths

hiddenimports = collect_submodules("selflow_qt")

_root = Path(get_package_paths("selflow_qt")[1]).parent
_resources = _root / "resources"
datas = (
    [(str(_resources), "resources")] if _resources.is_dir() and any(_resources.iterdir()) else []
)
