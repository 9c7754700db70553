"""Typed, validated configuration for models and training runs.

Every value a user can type reaches the code through these dataclasses, so this is
the one place that turns bad input into a clear one-line ``ConfigError``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

DATASETS = ("mnist", "fashion-mnist")
IMAGE_SIDE = 28
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE  # 784: images are flattened for the MLP


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the value and the fix."""


def _require_positive_int(name: str, value: object, flag: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}: pass {flag} 1 or more")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the MLP VAE: 784 -> hidden -> latent -> hidden -> 784."""

    latent_dim: int
    hidden_dim: int = 400  # the canonical pytorch/examples width
    input_dim: int = IMAGE_PIXELS

    def __post_init__(self) -> None:
        _require_positive_int("latent size", self.latent_dim, "--latent-dims")
        _require_positive_int("hidden width", self.hidden_dim, "--hidden-dim")
        _require_positive_int("input size", self.input_dim, "an input_dim of")


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained; together with ModelConfig it names the checkpoint."""

    dataset: str = "mnist"
    epochs: int = 12
    batch_size: int = 128
    lr: float = 1e-3  # Adam, as in the seed report
    seed: int = 0

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ConfigError(
                f"unknown dataset {self.dataset!r}: choose one of {', '.join(DATASETS)}"
            )
        _require_positive_int("epochs", self.epochs, "--epochs")
        _require_positive_int("batch size", self.batch_size, "--batch-size")
        lr_ok = isinstance(self.lr, (int, float)) and not isinstance(self.lr, bool)
        if not lr_ok or not math.isfinite(self.lr) or self.lr <= 0:
            raise ConfigError(f"learning rate must be a positive number, got {self.lr!r}: try --lr 0.001")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")


def config_from_dict(cls: type, data: dict) -> object:
    """Rebuild a stored ``cls``; every field must be present, since a stored config that
    silently fell back to defaults could describe weights it does not match."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    missing = sorted(names - data.keys())
    if missing:
        raise ConfigError(f"{cls.__name__} is missing {', '.join(missing)}")
    unknown = sorted(data.keys() - names)
    if unknown:
        raise ConfigError(f"{cls.__name__} has unknown keys {', '.join(unknown)}")
    return cls(**data)


def to_dict(config: ModelConfig | TrainConfig) -> dict:
    return asdict(config)
