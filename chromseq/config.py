"""Training configs: YAML -> validated dataclasses. The resolved config is the run's record.

Unknown keys are errors that list the allowed keys; values of the wrong type are errors
that name the field. ``--set train.epochs=3`` overrides a field (the value is parsed as YAML).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chromseq.errors import ChromseqError


@dataclass
class ModelConfig:
    name: str = "demo_cnn"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    train: str = "data/synth/train.mat"
    valid: str = "data/synth/valid.mat"
    test: str | None = None
    annotations: str | None = None      # feature table; default: features.tsv beside the train file
    features: str | list[int] | None = None  # subset by name pattern or indices
    alphabet: str | None = None          # default: the file's own (AGCT for DeepSEA .mat)
    max_samples: int | None = None
    max_valid_samples: int | None = None
    crop: int | None = None
    rc_augment: bool = False
    block_size: int = 4096
    shuffle_buffer_blocks: int = 4


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 256
    optimizer: str = "adam"             # adam | sgd | rmsprop
    learning_rate: float = 1e-3
    momentum: float = 0.9               # sgd
    lr_decay: float = 0.0               # inverse-time decay per step (DeepSEA's SGD: 8e-7)
    lr_schedule: str = "none"           # none | plateau | cosine | exponential
    lr_factor: float = 0.5              # plateau / exponential factor
    lr_patience: int = 2
    early_stopping_patience: int | None = 5
    monitor: str = "val_auroc"          # one of MONITORS; val_loss/val_perplexity are minimized
    class_weights: bool = False         # up-weight positives of rare features in the loss
    steps_per_epoch: int | None = None
    snapshot_samples: int = 256
    verbose: int = 1


@dataclass
class DeviceConfig:
    strategy: str = "auto"              # auto | one_device | mirrored | multi_worker
    mixed_precision: bool = False
    jit_compile: bool = False           # XLA: 3x slower on CPU here; try it on GPU
    threads: int | None = None          # intra-op threads; default: all cores
    deterministic: bool = True          # op determinism on CPU (same seed -> same metrics)
    fast_cpu_kernels: bool | str = "auto"  # chromseq's CPU gradient kernels: auto | true | false


@dataclass
class Config:
    name: str = "run"
    run_dir: str | None = None          # default runs/<name>
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    device: DeviceConfig = field(default_factory=DeviceConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @property
    def resolved_run_dir(self) -> Path:
        return Path(self.run_dir or f"runs/{self.name}")


_CHOICES = {
    "train.optimizer": ("adam", "sgd", "rmsprop"),
    "train.lr_schedule": ("none", "plateau", "cosine", "exponential"),
    "device.strategy": ("auto", "one_device", "mirrored", "multi_worker"),
    "device.fast_cpu_kernels": ("auto", "true", "false"),
}
# what every epoch logs (training/callbacks.py ValidationMetrics): what train.monitor may name
MONITORS = ("val_auroc", "val_auprc", "val_f1", "val_best_f1", "val_loss", "val_perplexity", "loss", "perplexity")
_NON_NEGATIVE = ("seed", "train.momentum", "train.lr_decay", "train.lr_patience", "train.early_stopping_patience",
                 "train.snapshot_samples", "train.verbose")
_POSITIVE = ("train.epochs", "train.batch_size", "train.learning_rate", "data.block_size",
             "data.shuffle_buffer_blocks", "data.max_samples", "data.max_valid_samples", "data.crop",
             "train.steps_per_epoch", "device.threads")


def _check_type(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_type(value, option, where)
            except ChromseqError as exc:
                errors.append(str(exc))
        raise ChromseqError(errors[-1] if errors else f"{where}: invalid value {value!r}")
    if annotation is Any:
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ChromseqError(f"config field {where}: expected a mapping, got {value!r}")
        return dict(value)
    if origin is list:
        if not isinstance(value, list):
            raise ChromseqError(f"config field {where}: expected a list, got {value!r}")
        (inner,) = typing.get_args(annotation)
        return [_check_type(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if annotation is bool:
        if not isinstance(value, bool):
            raise ChromseqError(f"config field {where}: expected true/false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ChromseqError(f"config field {where}: expected an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, str):
            # PyYAML (YAML 1.1) reads 1e-3 without a dot as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ChromseqError(f"config field {where}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ChromseqError(f"config field {where}: must be a finite number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ChromseqError(f"config field {where}: expected a string, got {value!r}")
        return value
    raise ChromseqError(f"config field {where}: unsupported type")


def _build(cls, data: Any, where: str):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ChromseqError(f"config section {where or 'top level'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        prefix = f"{where}." if where else ""
        raise ChromseqError(f"unknown config key {prefix}{unknown[0]}; allowed keys{' in ' + where if where else ''}: "
                            f"{', '.join(names)}")
    kwargs = {}
    for name, value in data.items():
        path = f"{where}.{name}" if where else name
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value, path)
        else:
            kwargs[name] = _check_type(value, hint, path)
    return cls(**kwargs)


def _validate(cfg: Config) -> Config:
    flat = cfg.to_dict()
    for key, choices in _CHOICES.items():
        section, name = key.split(".")
        value = flat[section][name]
        if (str(value).lower() if isinstance(value, bool) else value) not in choices:
            raise ChromseqError(f"config field {key}: {value!r} is not one of {', '.join(choices)}")
    _check_finite(flat, "")
    for key in _POSITIVE:
        section, name = key.split(".")
        value = flat[section][name]
        if value is not None and value <= 0:
            raise ChromseqError(f"config field {key}: must be positive, got {value}")
    for key in _NON_NEGATIVE:
        value = flat
        for part in key.split("."):
            value = value[part]
        if value is not None and value < 0:
            raise ChromseqError(f"config field {key}: must be zero or positive, got {value}")
    t = cfg.train
    if t.momentum >= 1:
        raise ChromseqError(f"config field train.momentum: must be below 1, got {t.momentum}")
    if not 0 < t.lr_factor <= 1 or (t.lr_schedule == "plateau" and t.lr_factor == 1):
        raise ChromseqError(f"config field train.lr_factor: must be in (0, 1{')' if t.lr_schedule == 'plateau' else ']'}"
                            f", got {t.lr_factor}")
    if t.monitor not in MONITORS:
        raise ChromseqError(f"config field train.monitor: {t.monitor!r} is not logged each epoch; "
                            f"choose one of {', '.join(MONITORS)}")
    from chromseq.models import MODEL_NAMES, model_params

    if cfg.model.name not in MODEL_NAMES:
        raise ChromseqError(f"config field model.name: unknown model {cfg.model.name!r}; "
                            f"choose one of {', '.join(MODEL_NAMES)}")
    allowed = model_params(cfg.model.name)
    unknown = sorted(set(cfg.model.params) - set(allowed))
    if unknown:
        raise ChromseqError(f"unknown config key model.params.{unknown[0]} for {cfg.model.name}; "
                            f"allowed keys: {', '.join(allowed)}")
    return cfg


def _check_finite(node: Any, where: str) -> None:
    """Refuse NaN and infinity anywhere (model.params included): they only surface later as a NaN loss."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_finite(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            _check_finite(value, f"{where}[{i}]")
    elif isinstance(node, float) and not math.isfinite(node):
        raise ChromseqError(f"config field {where}: must be a finite number, got {node!r}")


def parse_override(text: str) -> tuple[list[str], Any]:
    """'train.epochs=3' -> (['train', 'epochs'], 3)."""
    if "=" not in text:
        raise ChromseqError(f"--set {text!r}: expected key=value, e.g. train.epochs=3")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError as exc:
        raise ChromseqError(f"--set {text!r}: cannot parse the value ({exc})") from exc
    return key.strip().split("."), value


def apply_overrides(data: dict, overrides: typing.Iterable[str]) -> dict:
    for item in overrides:
        keys, value = parse_override(item)
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ChromseqError(f"--set {item!r}: {k} is not a section")
        node[keys[-1]] = value
    return data


def config_from_dict(data: dict, overrides: typing.Iterable[str] = ()) -> Config:
    """Validate a config mapping (after ``key=value`` overrides)."""
    return _validate(_build(Config, apply_overrides(dict(data or {}), overrides), ""))


def load_config(path: str | Path, overrides: typing.Iterable[str] = ()) -> Config:
    """Read and validate a YAML config file."""
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ChromseqError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    try:
        return config_from_dict(data, overrides)
    except ChromseqError as exc:
        raise ChromseqError(f"{path}: {exc}") from exc
