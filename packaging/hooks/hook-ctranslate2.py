# ctranslate2: the served model's CPU runtime (selflow_qt/agents/model/fast_runtime.py). Its
# extension links libctranslate2 and its own OpenMP (libgomp), which the Linux wheel keeps in
# ctranslate2.libs beside the package (found through the extension's $ORIGIN rpath, so they go to
# the same place in the bundle) and the other wheels in the package; the converters (run in the
# conversion child) and the model specs are imported by name.
import importlib.util
from pathlib import Path

from PyInstaller.utils.hooks import collect_dynamic_libs, collect_submodules, copy_metadata

hiddenimports = collect_submodules("ctranslate2")
binaries = collect_dynamic_libs("ctranslate2")
_spec = importlib.util.find_spec("ctranslate2")
if _spec is not None and _spec.origin:
    _libs = Path(_spec.origin).parent.parent / "ctranslate2.libs"
    binaries += [(str(p), "ctranslate2.libs") for p in sorted(_libs.glob("*.so*"))]
datas = copy_metadata("ctranslate2")
