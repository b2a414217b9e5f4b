# torch: the contrib hook (sources next to the .pyc files, since torch inspects its own source;
# every submodule; shared libs), minus test-only and tooling packages nothing at run time imports.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _contrib import contrib_hook, metadata_of  # noqa: E402

_hook = contrib_hook("torch")
_UNUSED = (
    "torch.testing._internal",  # torch's own test suite helpers (need expecttest, hypothesis)
    "torch.utils.tensorboard",  # needs tensorboard; SelFlow plots in Qt
    "torch.utils.benchmark",  # microbenchmark tooling
    "torch.utils.bottleneck",  # profiler CLI
    "torch.utils.hipify",  # CUDA->ROCm source translator
    "torch._inductor.codegen.rocm",
    "torch._inductor.codegen.cuda",
    "torch.onnx._internal.exporter",  # ONNX export, needs onnxscript
)

module_collection_mode = _hook.get("module_collection_mode", "pyz+py")
warn_on_missing_hiddenimports = False
hiddenimports = [m for m in _hook.get("hiddenimports", []) if not m.startswith(_UNUSED)]
binaries = _hook.get("binaries", [])
datas = [
    (src, dest) for src, dest in _hook.get("datas", []) if "/testing/_internal/" not in src
] + metadata_of("torch")
if "bindepend_symlink_suppression" in _hook:
    bindepend_symlink_suppression = _hook["bindepend_symlink_suppression"]
