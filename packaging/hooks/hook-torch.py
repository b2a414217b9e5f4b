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


def _needed(entry: tuple[str, str]) -> bool:
    """False for torch's C++ test programs and libraries, protoc and other build-time tools."""
    src, dest = entry
    name = Path(src).name
    dest = dest.replace("\\", "/")
    if dest == "torch/test" or dest.startswith("torch/test/"):
        return False  # ~80 MB of C++ unit-test executables
    if dest == "torch/bin" and name != "torch_shm_manager":  # shm manager: shared-memory tensors
        return False  # protoc, test_api, test_jit, TCPStoreTest, ...
    if name.startswith(("libjitbackend_test", "libtorchbind_test", "libbackend_with_compiler")):
        return False
    return "/testing/_internal/" not in src.replace("\\", "/")


binaries = [b for b in _hook.get("binaries", []) if _needed(b)]
datas = [d for d in _hook.get("datas", []) if _needed(d)] + metadata_of("torch")
if "bindepend_symlink_suppression" in _hook:
    bindepend_symlink_suppression = _hook["bindepend_symlink_suppression"]
