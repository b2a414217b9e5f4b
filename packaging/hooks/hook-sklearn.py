# scikit-learn: the contrib hook plus its metadata; no datasets downloads or tests.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import contrib_hook, metadata_of  # noqa: E402

_hook = contrib_hook("sklearn")
hiddenimports = _hook.get("hiddenimports", [])
datas = _hook.get("datas", []) + metadata_of("scikit-learn", "threadpoolctl", "joblib", "scipy")
excludedimports = ["matplotlib", "pytest"]
