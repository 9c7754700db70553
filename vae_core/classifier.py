"""A small CNN digit classifier: the judge of generated and reconstructed digits.

``vae-explorer train-classifier`` trains it on the training split and stores it
through ``store`` as ``checkpoints/classifier-<dataset>/`` (``model.safetensors`` +
``config.json`` with ``"kind": "classifier"``, which ``store.scan`` skips). It reads
images as the VAE writes them: grey levels in [0, 1], either [B, 28, 28] or [B, 784].

Architecture (about 100k parameters, 0.4 MB in float32)::

    [B, 1, 28, 28] -> conv 3x3 (16) -> ReLU -> max-pool 2   -> [B, 16, 14, 14]
                   -> conv 3x3 (32) -> ReLU -> max-pool 2   -> [B, 32, 7, 7]
                   -> conv 3x3 (64) -> ReLU -> max-pool 2   -> [B, 64, 3, 3]
                   -> linear (128) -> ReLU = features        -> [B, 128]
                   -> dropout -> linear (10) = logits        -> [B, 10]

The 128 "features" are what the Frechet distance in ``evaluate`` compares.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from . import store
from .config import DATASETS, IMAGE_PIXELS, IMAGE_SIDE, ConfigError, TrainConfig
from .data import Split
from .defaults import CLASSIFIER_BATCH_SIZE, CLASSIFIER_EPOCHS

KIND = "classifier"
DEFAULT_EPOCHS = CLASSIFIER_EPOCHS
DEFAULT_BATCH_SIZE = CLASSIFIER_BATCH_SIZE
PREDICT_BATCH = 2000
LR_DECAY = 0.7  # per epoch: the last epochs settle the weights, worth ~0.2 points of accuracy
# MNIST's pixel mean and standard deviation: centred inputs make Adam's first steps useful.
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081


class NoClassifier(store.CheckpointError):
    """The data set has no classifier at all (a registered one): callers skip what needs one, as when it is absent."""


def classifier_name(dataset: str) -> str:
    """The directory of the classifier for ``dataset`` under the checkpoint root."""
    return f"{KIND}-{dataset}"


def has_classifier(dataset: str) -> bool:
    """Whether ``dataset`` can have a classifier: MNIST and Fashion-MNIST (28 x 28 grey, ten classes, what this net
    reads). A registered data set has none: its images may be of any size or colour."""
    return dataset in DATASETS


def no_classifier_note(dataset: str) -> str:
    """The one line for a data set that has no classifier, naming what is skipped."""
    return (f"no classifier for {dataset}: the digit classifier judges MNIST and Fashion-MNIST images only, so the "
            "metrics that need one (sample quality, Frechet distance, reconstruction accuracy, confidence) are skipped")


@dataclass(frozen=True)
class ClassifierConfig:
    """Widths of the CNN: one 3x3 conv + ReLU + 2x2 max-pool block per entry of ``channels``."""

    channels: tuple[int, ...] = (16, 32, 64)
    hidden: int = 128  # size of the feature vector used for the Frechet distance
    dropout: float = 0.25

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))  # JSON gives a list back
        widths = (*self.channels, self.hidden)
        if not self.channels or len(self.channels) > 4 or any(
                isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            raise ConfigError(f"classifier needs 1 to 4 positive conv widths and a positive hidden size, "
                              f"got channels={self.channels!r} hidden={self.hidden!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"classifier dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def flat_size(self) -> int:
        """Values after the last block: each pool halves the side, rounding down (28, 14, 7, 3)."""
        return self.channels[-1] * (IMAGE_SIDE // 2 ** len(self.channels)) ** 2


class DigitClassifier(nn.Module):
    """Conv blocks and an MLP head; ``features`` is the penultimate layer."""

    def __init__(self, config: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        self.config = config
        widths = (1, *config.channels)
        self.convs = nn.ModuleList(nn.Conv2d(widths[i], widths[i + 1], kernel_size=3, padding=1)
                                   for i in range(len(config.channels)))
        self.hidden = nn.Linear(config.flat_size, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden, 10)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """images [B, 28, 28] or [B, 784] in [0, 1] -> features [B, hidden] (after ReLU)."""
        x = (as_square(images).unsqueeze(1) - PIXEL_MEAN) / PIXEL_STD
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return F.relu(self.hidden(x.flatten(1)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images [B, 28, 28] or [B, 784] -> logits [B, 10]."""
        return self.out(self.dropout(self.features(images)))


def as_square(images: torch.Tensor) -> torch.Tensor:
    """[B, 784] or [B, 28, 28] (or [B, 1, 28, 28]) -> [B, 28, 28]; anything else is refused."""
    one_image = images.dim() >= 2 and math.prod(images.shape[1:]) == IMAGE_PIXELS
    if one_image and (images.shape[-1] == IMAGE_PIXELS or images.shape[-2:] == (IMAGE_SIDE, IMAGE_SIDE)):
        return images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    raise ValueError(f"expected images of shape [B, 28, 28] or [B, 784], got {tuple(images.shape)}")


@torch.no_grad()
def classify(classifier: DigitClassifier, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """images [B, 28, 28] or [B, 784] -> (probabilities [B, 10], features [B, hidden]) in one pass."""
    classifier.eval()
    device = next(classifier.parameters()).device
    square = as_square(images)
    probabilities, features = [], []
    for start in range(0, len(square), PREDICT_BATCH):
        hidden = classifier.features(square[start:start + PREDICT_BATCH].to(device).float())
        probabilities.append(torch.softmax(classifier.out(hidden), dim=1).cpu())
        features.append(hidden.cpu())
    if not features:
        return torch.zeros(0, 10), torch.zeros(0, classifier.config.hidden)
    return torch.cat(probabilities), torch.cat(features)


def predict_proba(classifier: DigitClassifier, images: torch.Tensor) -> torch.Tensor:
    """images [B, 28, 28] or [B, 784] in [0, 1] -> class probabilities [B, 10] (CPU, rows sum to 1)."""
    return classify(classifier, images)[0]


def predict_features(classifier: DigitClassifier, images: torch.Tensor) -> torch.Tensor:
    """images [B, 28, 28] or [B, 784] -> penultimate features [B, hidden] (CPU)."""
    return classify(classifier, images)[1]


def accuracy(classifier: DigitClassifier, split: Split) -> float:
    """Fraction of ``split`` whose most probable class is the label."""
    predicted = predict_proba(classifier, split.images).argmax(dim=1)
    return (predicted == split.labels).double().mean().item()


EpochCallback = Callable[[int, float, float], None]  # epoch, mean train loss, test accuracy


def train_classifier(train_split: Split, test_split: Split, train_config: TrainConfig,
                     config: ClassifierConfig = ClassifierConfig(), device: torch.device | None = None,
                     on_epoch: EpochCallback | None = None) -> tuple[DigitClassifier, list[dict]]:
    """Adam on shuffled slices of the preloaded training tensor; returns (model in eval mode, history).

    history: one dict per epoch with train_loss (cross-entropy, nats), test_accuracy, seconds.
    """
    device = device or torch.device("cpu")
    torch.manual_seed(train_config.seed)
    model = DigitClassifier(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr)
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=LR_DECAY)
    shuffle = torch.Generator().manual_seed(train_config.seed)
    images = as_square(train_split.images).to(device)
    labels = train_split.labels.to(device)
    history = []
    for epoch in range(1, train_config.epochs + 1):
        started = time.perf_counter()
        loss = _train_epoch(model, optimizer, images, labels, train_config.batch_size, shuffle)
        schedule.step()
        test_accuracy = accuracy(model, test_split)
        history.append({"epoch": epoch, "train_loss": loss, "test_accuracy": test_accuracy,
                        "seconds": time.perf_counter() - started})
        if on_epoch is not None:
            on_epoch(epoch, loss, test_accuracy)
    return model.eval(), history


def _train_epoch(model: DigitClassifier, optimizer: torch.optim.Optimizer, images: torch.Tensor,
                 labels: torch.Tensor, batch_size: int, shuffle: torch.Generator) -> float:
    """One pass over images [N, 28, 28]; returns the mean cross-entropy per image."""
    model.train()
    order = torch.randperm(len(images), generator=shuffle).to(images.device)
    total = 0.0
    for start in range(0, len(images), batch_size):
        index = order[start:start + batch_size]
        loss = F.cross_entropy(model(images[index]), labels[index])
        if not math.isfinite(loss.item()):
            raise ConfigError(f"classifier loss became {loss.item()}: lower --lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(index)
    return total / len(images)


def save_classifier(root: Path, model: DigitClassifier, train_config: TrainConfig,
                    history: list[dict], device: str = "cpu") -> Path:
    """Store the classifier as ``root/classifier-<dataset>/`` (atomic, safetensors + config.json)."""
    config = {
        "architecture": asdict(model.config),
        "train": asdict(train_config),
        "history": history,
        "test_accuracy": history[-1]["test_accuracy"] if history else None,
    }
    return store.save_auxiliary(root, classifier_name(train_config.dataset), KIND,
                                model.state_dict(), config, device=device)


def load_classifier(root: Path, dataset: str = "mnist",
                    device: str | torch.device = "cpu") -> tuple[DigitClassifier, dict]:
    """The stored classifier for ``dataset`` in eval mode, and its config.json.

    Raises ``store.CheckpointError`` (message names the fix) when absent or unreadable, and its subclass
    ``NoClassifier`` (nothing read) for a data set that has none (``has_classifier``).
    """
    if not has_classifier(dataset):
        raise NoClassifier(no_classifier_note(dataset))
    name = classifier_name(dataset)
    fix = f"train it with `vae-explorer train-classifier --dataset {dataset}`"
    tensors, meta = store.load_auxiliary(root, name, KIND, fix)
    try:
        model = DigitClassifier(ClassifierConfig(**meta["architecture"]))
        model.load_state_dict(tensors)
    except (KeyError, TypeError, ConfigError, RuntimeError) as error:
        raise store.CheckpointError(f"{root / name} does not hold a usable classifier ({error}): {fix}") from error
    return model.to(device).eval(), meta
