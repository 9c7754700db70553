"""MNIST and Fashion-MNIST through torchvision, preloaded into one float tensor.

Training slices batches out of the preloaded tensor instead of running a per-image
transform pipeline: on two cores the canonical DataLoader costs as much as the model.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import NamedTuple

import torch

from .config import DATASETS, IMAGE_PIXELS, IMAGE_SIDE

DATA_DIR_ENV = "VAE_DATA_DIR"
OFFLINE_ENV = "VAE_OFFLINE"  # set (to anything but "" or "0"): never download, say the data is missing instead
DEFAULT_DATA_DIR = "./data"
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


class DataUnavailableError(RuntimeError):
    """The dataset files are missing or unreadable; the message says what to do."""


class Split(NamedTuple):
    """One split of a dataset.

    images: float32 [N, 784] in [0, 1], flattened row-major from 28x28.
    labels: int64 [N] in 0..9.
    """

    images: torch.Tensor
    labels: torch.Tensor


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The torchvision root: the argument, else $VAE_DATA_DIR, else ./data."""
    return Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def raw_folder(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where torchvision keeps a dataset's files: DATA_DIR/MNIST/raw or DATA_DIR/FashionMNIST/raw."""
    if dataset not in DATASETS:
        raise DataUnavailableError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    return resolve_data_dir(data_dir) / _TORCHVISION_CLASS[dataset] / "raw"


def split_image_file(dataset: str, train: bool, data_dir: str | os.PathLike | None = None) -> Path | None:
    """A split's image file on disk (raw or .gz), or None: stat calls, no parsing, no torchvision import."""
    folder, prefix = raw_folder(dataset, data_dir), "train" if train else "t10k"
    return next((path for ext in ("", ".gz") if (path := folder / f"{prefix}-images-idx3-ubyte{ext}").is_file()),
                None)


def split_files_present(dataset: str, train: bool, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether a split's image file is on disk."""
    return split_image_file(dataset, train, data_dir) is not None


def split_size(dataset: str, train: bool, data_dir: str | os.PathLike | None = None) -> int | None:
    """How many images a split's file holds, from its 8-byte idx header; None when the file is absent."""
    import gzip

    path = split_image_file(dataset, train, data_dir)
    if path is None:
        return None
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as file:
        header = file.read(8)
    return int.from_bytes(header[4:8], "big") if len(header) == 8 else None


def _dataset_class(dataset: str):
    if dataset not in DATASETS:
        raise DataUnavailableError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    import torchvision.datasets  # imported here: torchvision costs seconds at start-up

    return getattr(torchvision.datasets, _TORCHVISION_CLASS[dataset])


def _missing_message(dataset: str, root: Path, reason: str) -> str:
    folder = raw_folder(dataset, root)
    return (
        f"{dataset} is not in {folder} and could not be downloaded ({reason}): "
        f"set {DATA_DIR_ENV} or --data-dir to a folder holding {_TORCHVISION_CLASS[dataset]}/raw, "
        f"or download it with `vae-explorer download --dataset {dataset} --data-dir {root}`"
    )


def offline() -> bool:
    """Whether $VAE_OFFLINE forbids downloads (tests that need "no data" set it, so they hold online too)."""
    return os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0")


def _open(dataset: str, root: Path, train: bool, download: bool):
    cls = _dataset_class(dataset)
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError as missing:  # torchvision: "Dataset not found"; anything else is a bad file
        if not str(missing).startswith("Dataset not found"):
            raise _corrupt_error(dataset, root, missing) from missing
        if not download or offline():
            reason = f"downloads are off: {OFFLINE_ENV} is set" if download else "download disabled"
            raise DataUnavailableError(_missing_message(dataset, root, reason)) from missing
    except Exception as corrupt:  # a file is there but torchvision cannot parse it
        raise _corrupt_error(dataset, root, corrupt) from corrupt
    return _download(cls, dataset, root, train)


def _download(cls, dataset: str, root: Path, train: bool):
    """Download and open a split; a failed download removes every file it began, so none is left half-written."""
    folder = raw_folder(dataset, root).parent
    before = {folder, *folder.rglob("*")} if folder.exists() else set()
    try:
        return cls(str(root), train=train, download=True)
    except BaseException as failed:  # offline, a mirror refused, or Ctrl-C mid-file
        _remove_new(folder, before)
        if not isinstance(failed, Exception):
            raise
        raise DataUnavailableError(_missing_message(dataset, root, _download_reason(failed))) from failed


def _remove_new(folder: Path, before: set[Path]) -> None:
    """Delete what appeared under ``folder`` (itself included) since ``before``: files first, then folders."""
    appeared = {folder, *folder.rglob("*")} - before if folder.exists() else set()
    for path in sorted(appeared, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()


def _download_reason(error: Exception) -> str:
    """The first concrete cause in torchvision's multi-line download error (it lists every mirror)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line for line in lines if not line.startswith(("Error downloading", "Tried "))]
    return (causes or lines or ["offline"])[0][:120]


def _corrupt_error(dataset: str, root: Path, error: Exception) -> DataUnavailableError:
    folder = raw_folder(dataset, root)
    return DataUnavailableError(
        f"{dataset} files in {folder} are corrupt ({type(error).__name__}: "
        f"{str(error)[:100] or 'bad header (wrong magic number or size)'}): delete that folder and download it again"
    )


def load_split(
    dataset: str = "mnist",
    train: bool = True,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Split:
    """Load a whole split once; download is tried only when the files are missing."""
    root = resolve_data_dir(data_dir)
    source = _open(dataset, root, train, download)
    pixels, labels = source.data, source.targets
    count = len(labels)
    if count == 0 or pixels.shape != (count, IMAGE_SIDE, IMAGE_SIDE):
        error = ValueError(f"{count} labels but images of shape {tuple(pixels.shape)}")
        raise _corrupt_error(dataset, root, error)
    images = pixels.reshape(count, IMAGE_PIXELS).to(torch.float32).div_(255.0)
    return Split(images=images, labels=labels.to(torch.int64))


def data_available(dataset: str = "mnist", data_dir: str | os.PathLike | None = None) -> bool:
    """True when the test split loads from disk without a download."""
    try:
        load_split(dataset, train=False, data_dir=data_dir, download=False)
    except DataUnavailableError:
        return False
    return True


def download(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Fetch both splits into the data directory (needs internet); returns the root."""
    load_split(dataset, train=True, data_dir=data_dir)
    load_split(dataset, train=False, data_dir=data_dir)
    return resolve_data_dir(data_dir)
