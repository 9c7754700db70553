"""The data sets: MNIST and Fashion-MNIST through torchvision, and those registered with `vae-explorer data add`
(``vae_core.user_data``, read from the checkpoint root with no torchvision), each split preloaded into one tensor.

Training slices batches out of the preloaded tensor instead of running a per-image
transform pipeline: on two cores the canonical DataLoader costs as much as the model.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .classes import class_names as builtin_class_names
from .config import DATASETS, IMAGE_PIXELS, IMAGE_SIDE, ModelConfig, is_registered_name

if TYPE_CHECKING:  # torch is imported where a split is loaded: `data list` and `--help` need none of it
    import torch

DATA_DIR_ENV = "VAE_DATA_DIR"
OFFLINE_ENV = "VAE_OFFLINE"  # set (to anything but "" or "0"): never download, say the data is missing instead
DEFAULT_DATA_DIR = "./data"
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


class DataUnavailableError(RuntimeError):
    """The dataset files are missing or unreadable; the message says what to do."""


class Split(NamedTuple):
    """One split of a dataset, its images [C, S, S] flattened (``image_set`` gives C and S).

    images: float32 [N, C * S * S] in [0, 1], row-major from [C, S, S]: [N, 784] for MNIST and
        Fashion-MNIST (1 x 28 x 28) and for a registered grey set at 28.
    labels: int64 [N] in 0..K-1 for K classes (10 for the built-in sets).
    """

    images: torch.Tensor
    labels: torch.Tensor


class ImageSet(NamedTuple):
    """What a data set's images are: channels (1 grey, 3 RGB), side in pixels, class names (label k at index k)."""

    channels: int
    side: int
    class_names: tuple[str, ...]

    @property
    def pixels(self) -> int:
        """Values per flattened image: C * S * S (784 for MNIST)."""
        return self.channels * self.side * self.side


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The torchvision root: the argument, else $VAE_DATA_DIR, else ./data."""
    return Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def registered_root(checkpoint_dir: str | os.PathLike | None = None) -> Path:
    """The checkpoint root whose datasets/ folder holds the registered data sets (``store.resolve_checkpoint_dir``)."""
    from .store import resolve_checkpoint_dir

    return resolve_checkpoint_dir(checkpoint_dir)


def is_builtin(dataset: str) -> bool:
    """MNIST or Fashion-MNIST (torchvision's files in the data root), not a registered data set."""
    return dataset in DATASETS


def images_stamp(dataset: str, checkpoint_dir: str | os.PathLike | None = None) -> str:
    """What names a data set's images beyond its name, for the caches that hold them: "" for the built-in ones (the
    data root is their key), a registered set's fingerprint (another one once `data add --replace` stores others)."""
    if is_builtin(dataset):
        return ""
    from .user_data import read_info

    try:
        return read_info(registered_root(checkpoint_dir), dataset).fingerprint
    except DataUnavailableError:
        return "unreadable"  # loading it says why


def image_set(dataset: str, checkpoint_dir: str | os.PathLike | None = None) -> ImageSet:
    """Channels, side and class names of any data set: (1, 28, its ten classes) for the built-in ones, what
    dataset.json states for a registered one (``DataUnavailableError`` when it is not registered or is damaged)."""
    if is_builtin(dataset):
        return ImageSet(1, IMAGE_SIDE, builtin_class_names(dataset))
    from .user_data import read_info

    info = read_info(registered_root(checkpoint_dir), dataset)
    return ImageSet(info.channels, info.side, info.class_names)


def model_config(dataset: str, latent_dim: int, checkpoint_dir: str | os.PathLike | None = None,
                 **fields) -> ModelConfig:
    """The ``ModelConfig`` of a model of ``dataset``'s images: ``ModelConfig.for_images`` with its channels and side
    (1 x 28 x 28 for the built-in sets, so their configs and checkpoint names are what they always were).

    ``DataUnavailableError`` when a registered set is not there; ``ConfigError`` (one line) when the images do not
    fit the architecture (the conv VAE needs a side divisible by 4)."""
    shape = image_set(dataset, checkpoint_dir)
    return ModelConfig.for_images(latent_dim, shape.channels, shape.side, **fields)


def fit_to_images(config: ModelConfig, dataset: str, checkpoint_dir: str | os.PathLike | None = None) -> ModelConfig:
    """``config`` for ``dataset``'s images: itself when its channels and side are theirs already, else the same
    architecture, latent size and hidden width for them (a config built without looking at the data set, as a form
    that offers every data set does). Errors as ``model_config``."""
    shape = image_set(dataset, checkpoint_dir)
    if (config.channels, config.side) == (shape.channels, shape.side):
        return config
    return ModelConfig.for_images(config.latent_dim, shape.channels, shape.side, hidden_dim=config.hidden_dim,
                                  architecture=config.architecture)


def raw_folder(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where a data set's files are: torchvision's DATA_DIR/MNIST/raw or DATA_DIR/FashionMNIST/raw, or a registered
    set's folder under the checkpoint root ($VAE_CHECKPOINT_DIR)."""
    if is_registered_name(dataset):  # not a built-in name, spelled as a registered one
        from .user_data import datasets_folder

        return datasets_folder(registered_root()) / dataset
    if dataset not in DATASETS:
        raise DataUnavailableError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    return resolve_data_dir(data_dir) / _TORCHVISION_CLASS[dataset] / "raw"


def split_image_file(dataset: str, train: bool, data_dir: str | os.PathLike | None = None) -> Path | None:
    """A split's image file on disk (raw or .gz), or None: stat calls, no parsing, no torchvision import."""
    folder, prefix = raw_folder(dataset, data_dir), "train" if train else "t10k"
    return next((path for ext in ("", ".gz") if (path := folder / f"{prefix}-images-idx3-ubyte{ext}").is_file()),
                None)


def _registered_info(dataset: str):
    """dataset.json of a registered data set under $VAE_CHECKPOINT_DIR's root, or None when it does not read."""
    from .user_data import read_info

    try:
        return read_info(registered_root(), dataset)
    except DataUnavailableError:
        return None


def split_files_present(dataset: str, train: bool, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether a split's image file is on disk (a registered set: whether its dataset.json reads)."""
    if is_registered_name(dataset):  # not a built-in name, spelled as a registered one
        return _registered_info(dataset) is not None
    return split_image_file(dataset, train, data_dir) is not None


def split_size(dataset: str, train: bool, data_dir: str | os.PathLike | None = None) -> int | None:
    """How many images a split's file holds, from its 8-byte idx header (a registered set: its dataset.json);
    None when the file is absent."""
    import gzip

    if is_registered_name(dataset):  # not a built-in name, spelled as a registered one
        info = _registered_info(dataset)
        return None if info is None else (info.train_count if train else info.test_count)
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
    checkpoint_dir: str | os.PathLike | None = None,
) -> Split:
    """Load a whole split once; download is tried only when the files are missing.

    A registered data set is read from ``checkpoint_dir`` (else $VAE_CHECKPOINT_DIR, else ./checkpoints);
    ``data_dir`` and ``download`` are for the built-in ones.
    """
    import torch

    if not is_builtin(dataset):
        from .user_data import load_arrays

        pixels, labels, _ = load_arrays(registered_root(checkpoint_dir), dataset, train)
        images = torch.from_numpy(pixels).reshape(len(pixels), -1).to(torch.float32).div_(255.0)
        return Split(images=images, labels=torch.from_numpy(labels))
    root = resolve_data_dir(data_dir)
    source = _open(dataset, root, train, download)
    pixels, labels = source.data, source.targets
    count = len(labels)
    if count == 0 or pixels.shape != (count, IMAGE_SIDE, IMAGE_SIDE):
        error = ValueError(f"{count} labels but images of shape {tuple(pixels.shape)}")
        raise _corrupt_error(dataset, root, error)
    images = pixels.reshape(count, IMAGE_PIXELS).to(torch.float32).div_(255.0)
    return Split(images=images, labels=labels.to(torch.int64))


def data_available(dataset: str = "mnist", data_dir: str | os.PathLike | None = None,
                   checkpoint_dir: str | os.PathLike | None = None) -> bool:
    """True when the test split loads from disk without a download (a registered set: from ``checkpoint_dir``)."""
    try:
        load_split(dataset, train=False, data_dir=data_dir, download=False, checkpoint_dir=checkpoint_dir)
    except DataUnavailableError:
        return False
    return True


def download(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Fetch both splits into the data directory (needs internet); returns the root."""
    load_split(dataset, train=True, data_dir=data_dir)
    load_split(dataset, train=False, data_dir=data_dir)
    return resolve_data_dir(data_dir)
