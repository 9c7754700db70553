"""Typed, validated configuration for models and training runs.

Every value a user can type reaches the code through these dataclasses, so this is
the one place that turns bad input into a clear one-line ``ConfigError``.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields

from . import architectures

DATASETS = ("mnist", "fashion-mnist")  # built in (torchvision); others are registered with `vae-explorer data add`
# A registered data set's name: it names a folder under the checkpoint root and starts its checkpoints' names.
DATASET_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_DATASET_NAME = 40
# A registered data set's images are resized to one square side; its test split is a share of each class.
MIN_SIDE, DEFAULT_SIDE, MAX_SIDE = 8, 28, 64
DEFAULT_TEST_FRACTION = 1 / 6  # MNIST's 10,000 of 70,000
IMAGE_SIDE = 28
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE  # 784: images are flattened for the MLP

# Upper bounds: a mistyped size must be one clear line, not a multi-terabyte allocation. Each is far
# above what a 28 x 28 image needs (the shipped models use hidden 400 and latent sizes up to 50).
MAX_HIDDEN_DIM = 8192
MAX_LATENT_DIM = 1024
MAX_PARAMETERS = 30_000_000  # weights plus Adam's two moments: about 360 MB of float32
MAX_EPOCHS = 1000


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the value and the fix."""


def _require_positive_int(name: str, value: object, flag: str, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}: pass {flag} 1 or more")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} {value:,} is more than the {maximum:,} this explorer trains: "
                          f"pass {flag} {maximum} or less")


def mlp_parameters(latent_dim: int, hidden_dim: int, input_dim: int = IMAGE_PIXELS) -> int:
    """Weights and biases of the MLP VAE: input -> hidden -> (mu, logvar) -> hidden -> input."""
    return ((input_dim + 1) * hidden_dim + 2 * (hidden_dim + 1) * latent_dim
            + (latent_dim + 1) * hidden_dim + (hidden_dim + 1) * input_dim)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the VAE: the MLP 784 -> hidden -> latent -> hidden -> 784, the small conv net, or one that
    an installed package registers (``vae_core.architectures``; its class reads these same fields)."""

    latent_dim: int
    hidden_dim: int = 400  # the canonical pytorch/examples width; the MLP's only (conv widths are fixed)
    input_dim: int = IMAGE_PIXELS
    # "mlp", "conv" (two stride-2 convolutions each way), or a plugin's name (vae_core.architectures)
    architecture: str = "mlp"
    channels: int = 1  # the images': 1 grey, 3 RGB (a registered data set's; MNIST's are grey)
    side: int = IMAGE_SIDE  # the images are side x side; input_dim = channels x side x side

    def __post_init__(self) -> None:
        _require_positive_int("latent size", self.latent_dim, "--latent-dims", MAX_LATENT_DIM)
        _require_positive_int("hidden width", self.hidden_dim, "--hidden-dim", MAX_HIDDEN_DIM)
        _require_positive_int("input size", self.input_dim, "an input_dim of")
        known = architectures.names()
        if self.architecture not in known:
            raise ConfigError(f"unknown architecture {self.architecture!r}: choose --arch "
                              f"{architectures.spelled(known)} (a package adds one through the "
                              f"{architectures.GROUP} entry points)")
        self._check_image_shape()
        if self.architecture == "mlp":
            count = mlp_parameters(self.latent_dim, self.hidden_dim, self.input_dim)
            if count > MAX_PARAMETERS:
                raise ConfigError(f"this MLP would have {count:,} parameters, more than the {MAX_PARAMETERS:,} "
                                  "this explorer trains: pass a smaller --hidden-dim or --latent-dims")

    def _check_image_shape(self) -> None:
        if self.channels not in (1, 3) or isinstance(self.channels, bool):
            raise ConfigError(f"images have 1 (grey) or 3 (RGB) channels, got {self.channels!r}")
        if isinstance(self.side, bool) or not isinstance(self.side, int) or not MIN_SIDE <= self.side <= MAX_SIDE:
            raise ConfigError(f"image side must be {MIN_SIDE} to {MAX_SIDE} pixels, got {self.side!r}: "
                              "register the data set again with another --size")
        if self.input_dim != self.channels * self.side ** 2:
            raise ConfigError(f"input_dim {self.input_dim} is not {self.channels} x {self.side} x {self.side} "
                              "(channels x side x side)")
        if self.architecture == "conv" and self.side % 4:
            raise ConfigError(f"the conv VAE halves the image side twice, so it must be divisible by 4, got "
                              f"{self.side}: register the data set with --size 28 or 32, or use --arch mlp")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, side, side): how a flattened image [input_dim] folds back (channels first, rows, columns)."""
        return self.channels, self.side, self.side

    @classmethod
    def for_images(cls, latent_dim: int, channels: int = 1, side: int = IMAGE_SIDE, **fields) -> ModelConfig:
        """The config of a model of images ``channels`` x ``side`` x ``side`` (``input_dim`` follows)."""
        return cls(latent_dim=latent_dim, input_dim=channels * side * side, channels=channels, side=side, **fields)


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained; together with ModelConfig it names the checkpoint."""

    dataset: str = "mnist"
    epochs: int = 12
    batch_size: int = 128
    lr: float = 1e-3  # Adam, as in the seed report
    seed: int = 0
    beta: float = 1.0  # KL weight of the training objective recon + beta * KL; reported losses keep beta = 1

    def __post_init__(self) -> None:
        check_dataset_name(self.dataset)
        _require_positive_int("epochs", self.epochs, "--epochs", MAX_EPOCHS)
        _require_positive_int("batch size", self.batch_size, "--batch-size")
        lr_ok = isinstance(self.lr, (int, float)) and not isinstance(self.lr, bool)
        if not lr_ok or not math.isfinite(self.lr) or self.lr <= 0:
            raise ConfigError(f"learning rate must be a positive number, got {self.lr!r}: try --lr 0.001")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        beta_ok = isinstance(self.beta, (int, float)) and not isinstance(self.beta, bool)
        if not beta_ok or not math.isfinite(self.beta) or self.beta <= 0:
            raise ConfigError(f"KL weight beta must be a positive number, got {self.beta!r}: try --beta 1")


def is_registered_name(dataset: object) -> bool:
    """Whether ``dataset`` is spelled as a registered data set may be: lower-case letters and digits in words
    joined by single dashes, at most ``MAX_DATASET_NAME`` characters, not a built-in name."""
    return (isinstance(dataset, str) and dataset not in DATASETS and len(dataset) <= MAX_DATASET_NAME
            and DATASET_NAME.fullmatch(dataset) is not None)


def check_dataset_name(dataset: object) -> None:
    """A built-in data set or a name a registered one may have, else ``ConfigError``. Whether it is registered
    is asked where the checkpoint root is known (``vae_core.data``), not here: a config reads no files."""
    if dataset not in DATASETS and not is_registered_name(dataset):
        raise ConfigError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)} or a data set "
                          "registered with `vae-explorer data add NAME PATH` (its name: lower-case letters, digits "
                          f"and dashes, at most {MAX_DATASET_NAME} characters)")


def check_batch_fits(batch_size: int, train_images: int) -> None:
    """Raise ``ConfigError`` when one batch needs more images than the training split holds."""
    if batch_size > train_images:
        raise ConfigError(f"batch size {batch_size} is larger than the {train_images} training images: "
                          "pass a smaller --batch-size")


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
