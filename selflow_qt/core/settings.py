"""Settings: where the data lives and what the user configured, kept as settings.json there."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "selflow"
DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024


def resolve_data_dir(cli_value: str | os.PathLike | None = None) -> Path:
    """The data folder: --data-dir, else $SELFLOW_DATA_DIR, else the platform's user data folder.

    Created with mode 0700 if missing.
    """
    raw = cli_value or os.environ.get("SELFLOW_DATA_DIR") or platformdirs.user_data_dir(APP_NAME)
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path


@dataclass
class Settings:
    """Everything a user can configure. Unknown keys in the file are kept, not lost."""

    budget_bytes: int = DEFAULT_BUDGET_BYTES
    watch_roots: list[str] = field(default_factory=lambda: [str(Path.home())])
    exclude_globs: list[str] = field(default_factory=list)
    redact_patterns: list[str] = field(default_factory=list)
    shell_history_files: list[str] = field(default_factory=list)  # empty: auto-detect
    collect_fs: bool = True
    collect_apps: bool = True
    collect_shell: bool = True
    app_poll_seconds: float = 2.0
    # trigger policy
    trigger_fill_ratio: float = 0.9
    trigger_min_sources: int = 2
    trigger_min_entropy: float = 1.5
    trigger_min_silhouette: float = 0.1
    # analysis cycle
    analysis_landmarks: int = 3000  # events the quadratic steps fit on; the rest are assigned
    analysis_algorithm_timeout_s: float = 60.0  # per clusterer; a clusterer past it is recorded
    analysis_min_support: int = 3  # algorithms that must support a consensus cluster
    analysis_umap: str = "off"  # off (PCA view) | scatter (UMAP 2-D view) | cluster (+ UMAP space)
    analysis_text_embeddings: bool = False  # all-MiniLM-L6-v2 path/command text features
    specialize_min_sequences: int = 20  # sessions a pattern needs before it gets an agent
    # agents
    base_model: str = ""  # a path or model id; empty: built-in resolution order
    max_models: int = 5
    bandit_policy: str = "epsilon_greedy"  # epsilon_greedy | thompson | ucb1
    exploration_rate: float = 0.1
    prediction_horizon_s: float = 300.0
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    # desktop
    start_at_login: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path) -> Settings:
        path = Path(data_dir) / "settings.json"
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read settings: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in raw.items() if k in known and k != "extra"}
        extra = dict(raw.get("extra") or {})
        extra.update({k: v for k, v in raw.items() if k not in known})
        return cls(**kwargs, extra=extra)

    def save(self, data_dir: Path) -> None:
        path = Path(data_dir) / "settings.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
