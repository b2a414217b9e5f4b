"""Settings: where the data lives and what the user configured, kept as settings.json there."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import platformdirs

from selflow_qt.core.settings_checks import check, clean_list

log = logging.getLogger(__name__)

APP_NAME = "selflow"
DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024
TRAINING_POLICIES = ("ask", "when_idle", "always")
# the settings a running collection was started with: a change restarts it
COLLECTION_KEYS = ("watch_roots", "exclude_globs", "redact_patterns", "collect_fs")


def resolve_data_dir(cli_value: str | os.PathLike | None = None, *, create: bool = True) -> Path:
    """The data folder: --data-dir, else $SELFLOW_DATA_DIR, else the platform's user data folder.

    Created with mode 0700 if missing, unless ``create`` is false (read-only commands).
    """
    raw = cli_value or os.environ.get("SELFLOW_DATA_DIR") or platformdirs.user_data_dir(APP_NAME)
    path = Path(raw).expanduser().resolve()
    if not create:
        return path
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
    # the shell hooks show SelFlow's next-command suggestion (false: they only record)
    prompt_suggestions: bool = True
    collect_fs: bool = True
    collect_apps: bool = True
    collect_shell: bool = True
    app_poll_seconds: float = 2.0
    # trigger policy
    trigger_fill_ratio: float = 0.9
    trigger_min_sources: int = 2
    trigger_min_entropy: float = 1.5
    trigger_min_silhouette: float = 0.1
    # cold start: before the first cycle, "enough structure" replaces the byte budget's fill
    cold_start_events: int = 2000  # buffer events that count as enough on their own
    cold_start_minutes: float = 45.0  # or this much active time (gaps capped at 5 min) ...
    cold_start_min_events: int = 80  # ... with at least this many events
    # incremental detection between cycles
    incremental_every_s: float = 30.0  # how often new events are assigned to known patterns
    incremental_min_events: int = 30  # events an emerging group needs to become a pattern
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
    training_policy: str = "when_idle"  # ask | when_idle | always; one training at a time
    training_idle_minutes: float = 10.0  # "when idle": no activity for this long
    # desktop
    start_at_login: bool = False
    welcome_done: bool = False  # the first-start welcome was answered; it never comes back
    # short runs for tests and benches: the training child's config overrides (max_steps,
    # batch_size, eval_every, max_val, ...), held-out positions scored and LM-weighed positions
    # (None: the runner's own numbers)
    train_config: dict[str, Any] = field(default_factory=dict)
    eval_positions: int | None = None
    lm_positions: int | None = None
    # keys this version does not know, written back as they were (a newer version's settings)
    unknown_keys: dict[str, Any] = field(default_factory=dict)
    # what load() ignored, for the app to show (not a setting: never saved)
    warnings: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def load(cls, data_dir: Path) -> Settings:
        """The settings in ``data_dir``; never raises for a broken or wrongly typed file.

        An unreadable file gives the defaults (the file is kept as ``settings.json.broken``);
        a value of the wrong type gives that key's default. Each problem is logged and listed in
        ``settings.warnings`` so the app can say what it ignored. Keys written by older versions
        are read too: the ``extra`` object's keys, and ``auto_train: false`` as the policy "ask".
        """
        path = Path(data_dir) / "settings.json"
        warnings: list[str] = []
        raw: Any = {}
        if path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            # ValueError: bad JSON, or an integer past 4,300 digits; RecursionError: too deep.
            except (OSError, ValueError, RecursionError) as exc:
                warnings.append(f"{path} cannot be read ({exc}); using the default settings")
                _keep_broken(path)
                raw = {}
            if not isinstance(raw, dict):
                warnings.append(f"{path} is not a JSON object; using the default settings")
                _keep_broken(path)
                raw = {}
        raw = _lift_old_keys(raw)
        defaults = cls()
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "unknown_keys" or f.name not in raw:
                continue
            default = getattr(defaults, f.name)
            value, problem = _coerce(raw[f.name], default, f.type)
            if not problem and isinstance(value, list):
                value, dropped = clean_list(f.name, value)
                warnings += [f"{path}: {f.name}: {d}" for d in dropped]
            elif not problem:
                problem = check(f.name, value)
                problem = problem and f"{problem}, not {value!r}"
            if problem:
                warnings.append(f"{path}: {f.name} {problem}; using the default {default!r}")
            else:
                kwargs[f.name] = value
        if kwargs.get("training_policy", "when_idle") not in TRAINING_POLICIES:
            warnings.append(
                f"{path}: training_policy must be one of {', '.join(TRAINING_POLICIES)}; "
                "using the default"
            )
            kwargs.pop("training_policy")
        known = {f.name for f in fields(cls)} - {"unknown_keys"}
        settings = cls(**kwargs, unknown_keys={k: v for k, v in raw.items() if k not in known})
        for w in warnings:
            log.warning("%s", w)
        settings.warnings = tuple(warnings)
        return settings

    def collection_differs(self, other: Settings) -> bool:
        """Whether collection must restart to follow these settings instead of ``other``'s."""
        return any(getattr(self, k) != getattr(other, k) for k in COLLECTION_KEYS)

    def save(self, data_dir: Path) -> None:
        """Write settings.json: every setting, then the unknown keys as they were read."""
        path = Path(data_dir) / "settings.json"
        tmp = path.with_suffix(".json.tmp")
        values = asdict(self)
        values = {**values.pop("unknown_keys"), **values}
        tmp.write_text(json.dumps(values, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def _lift_old_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with older versions' keys read as today's: the keys in an ``extra`` object (a key
    beside it wins) and ``auto_train: false``, which meant the training policy "ask"."""
    old = raw.get("extra")
    merged = {**old, **raw} if isinstance(old, dict) else dict(raw)
    merged.pop("extra", None)
    if merged.pop("auto_train", True) is False:
        merged["training_policy"] = "ask"
    return merged


def _coerce(value: Any, default: Any, annotation: str = "") -> tuple[Any, str]:
    """``value`` as the type of ``default`` (``annotation``: the field's type, for the fields
    that may be None), or (None, what is wrong)."""
    if annotation.endswith("| None"):
        return (None, "") if value is None else _coerce(value, 0)
    if isinstance(default, dict):
        if isinstance(value, dict) and all(_plain(v) for v in value.values()):
            return dict(value), ""
        return None, "must be an object of numbers, text or true/false"
    if isinstance(default, bool):
        return (value, "") if isinstance(value, bool) else (None, "must be true or false")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value, ""
        if isinstance(value, float) and value.is_integer():
            return int(value), ""
        return None, "must be a whole number"
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # an integer past a float's range
                return None, "must be a finite number"
            return (number, "") if math.isfinite(number) else (None, "must be a finite number")
        return None, "must be a number"
    if isinstance(default, str):
        return (value, "") if isinstance(value, str) else (None, "must be text")
    if isinstance(default, list):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value), ""
        return None, "must be a list of text"
    return value, ""


def _plain(value: Any) -> bool:
    """A JSON number (finite), text or true/false."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (bool, int, str))


def _keep_broken(path: Path) -> None:
    """Keep an unreadable settings file next to it, so saving the defaults loses nothing."""
    try:
        shutil.copyfile(path, path.with_name(path.name + ".broken"))
    except OSError:
        pass
