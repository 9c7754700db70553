"""Image data sets a user registers (`vae-explorer data add NAME PATH`), stored once beside the checkpoints.

    <checkpoint root>/datasets/NAME/
        dataset.json   name, channels, side, class names, counts, source, seed, test fraction, fingerprint
        arrays.npz     train_images, test_images: uint8 [N, C, S, S]; train_labels, test_labels: int64 [N]

A registration reads and checks every image first (``image_sources``), then builds the folder under a
temporary dot-name in ``datasets/`` and renames it into place (``atomic.write_dir_atomic``): a refused
file, a full disk or Ctrl-C leaves no ``datasets/NAME`` and no temporary folder. Reading checks
dataset.json's size and values and the arrays' .npy headers against it before a byte is inflated; a
damaged or foreign folder is one ``DataUnavailableError`` line naming the file and the fix.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import store
from .atomic import recover_dir, translated_errors, write_dir_atomic
from .config import (
    DATASETS,
    DEFAULT_SIDE,
    DEFAULT_TEST_FRACTION,
    MAX_DATASET_NAME,
    MAX_SIDE,
    MIN_SIDE,
    ConfigError,
    is_registered_name,
)
from .data import DataUnavailableError
from .headers import HeaderError, NpzDirectory, read_json
from .image_sources import COLOURS, MAX_CLASS_NAME, MAX_CLASSES, MAX_VALUES, read_source
from .store import CHECKPOINT_DIR_ENV, DATASETS_FOLDER  # scan skips that folder: it holds no checkpoints

INFO_FILE = "dataset.json"
ARRAYS_FILE = "arrays.npz"
FORMAT = 1
MAX_TEST_IMAGES = 10_000  # the cached maps hold at most 10,000 test images (checks.MAX_TEST_IMAGES)
INFO_MAX_BYTES = 16 << 10  # ten class names of 100 characters and the rest: about 2 KB
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """What dataset.json says of a registered data set; images are [count, channels, side, side]."""

    name: str
    channels: int  # 1 grey, 3 RGB
    side: int
    class_names: tuple[str, ...]  # label k at index k
    train_count: int
    test_count: int
    source: str  # the folder or .npz it was read from, as given
    kind: str  # "folder" or "npz"
    seed: int
    test_fraction: float
    fingerprint: str  # SHA-256 of the four arrays: which images a checkpoint was trained on
    format: int = FORMAT

    @property
    def colour(self) -> str:
        return "grey" if self.channels == 1 else "RGB"


def datasets_folder(root: Path) -> Path:
    return Path(root) / DATASETS_FOLDER


def check_name(name: str) -> None:
    """``ConfigError`` unless ``name`` can name a registered data set (``config.is_registered_name``)."""
    if name in DATASETS:
        raise ConfigError(f"{name} is built in: pick another name for your data set")
    if not is_registered_name(name):
        raise ConfigError(f"{name!r} cannot name a data set: use lower-case letters and digits, words joined by "
                          f"single dashes, at most {MAX_DATASET_NAME} characters (e.g. my-digits)")


def check_options(side: int, colour: str, test_fraction: float, seed: int) -> None:
    """``ConfigError`` naming the flag for a value out of its range."""
    if isinstance(side, bool) or not isinstance(side, int) or not MIN_SIDE <= side <= MAX_SIDE:
        raise ConfigError(f"size must be {MIN_SIDE} to {MAX_SIDE} pixels, got {side!r}: pass --size {DEFAULT_SIDE}")
    if colour not in COLOURS:
        raise ConfigError(f"colour must be one of {', '.join(COLOURS)}, got {colour!r}: pass --colour auto")
    if not (isinstance(test_fraction, float | int) and math.isfinite(test_fraction) and 0 < test_fraction < 1):
        raise ConfigError(f"test fraction must be between 0 and 1, got {test_fraction!r}: pass --test-fraction 0.1667")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ConfigError(f"seed must be an integer from 0 to 2**32 - 1, got {seed!r}: pass --seed 0")


def split_rows(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """labels [N] -> (train rows, test rows), each sorted: a stratified split.

    The test split holds round(N x fraction) images (at least 1, at most N - 1 and ``MAX_TEST_IMAGES``), shared
    among the classes in proportion to their sizes (largest remainders get the rounding); which images of a
    class go to the test split is a permutation seeded by ``seed``, so the same seed gives the same split.
    """
    count = len(labels)
    total = min(max(1, round(count * test_fraction)), count - 1, MAX_TEST_IMAGES)
    classes, sizes = np.unique(labels, return_counts=True)
    exact = sizes * total / count
    shares = np.floor(exact).astype(np.int64)
    shares[np.argsort(-(exact - shares), kind="stable")[:total - shares.sum()]] += 1
    generator = np.random.default_rng(seed)
    test = [generator.permutation(np.flatnonzero(labels == label))[:share]
            for label, share in zip(classes, shares, strict=True)]
    test_rows = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(count), test_rows), test_rows


def fingerprint(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the arrays in name order (shapes included): changes with any pixel, label or split."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(f"{name}{arrays[name].shape}{arrays[name].dtype}".encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


def register(root: Path, name: str, source: Path, side: int = DEFAULT_SIDE, colour: str = "auto",
             test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0,
             replace: bool = False) -> tuple[DatasetInfo, dict[str, float]]:
    """Read ``source`` (image folder or .npz), split it and store it as ``root/datasets/name``, atomically.

    Returns its info and the seconds of each step ("read", "split", "write"). Refused, with nothing
    written: a bad name or option (``ConfigError``), a name already registered unless ``replace``,
    or any file of the source that cannot be used (``image_sources.SourceRefused``).
    """
    check_name(name)
    check_options(side, colour, test_fraction, seed)
    target = datasets_folder(root) / name
    _check_free(target, replace)  # before the reading, so a taken name is said at once
    seconds = {}
    started = time.perf_counter()
    images = read_source(Path(source), side, colour)
    seconds["read"] = time.perf_counter() - started

    started = time.perf_counter()
    train, test = split_rows(images.labels, test_fraction, seed)
    arrays = {"train_images": images.images[train], "train_labels": images.labels[train],
              "test_images": images.images[test], "test_labels": images.labels[test]}
    info = DatasetInfo(name=name, channels=images.images.shape[1], side=side, class_names=images.class_names,
                       train_count=len(train), test_count=len(test), source=str(Path(source).absolute()),
                       kind=images.kind, seed=seed, test_fraction=float(test_fraction), fingerprint=fingerprint(arrays))
    seconds["split"] = time.perf_counter() - started

    started = time.perf_counter()
    with translated_errors(target), store.lock_for(target.parent, name):  # one registration of a name at a time
        recover_dir(target)  # a registration killed mid-write left a .tmp- folder (or an .old- one) here
        _check_free(target, replace)  # again: another process may have registered it while this one read
        write_dir_atomic(target, lambda folder: _write(folder, info, arrays))
    seconds["write"] = time.perf_counter() - started
    return info, seconds


def _check_free(target: Path, replace: bool) -> None:
    if target.exists() and not replace:
        raise ConfigError(f"a data set named {target.name} is already registered in {target.parent}: "
                          "pass --replace to register it again, or pick another name")


def _write(folder: Path, info: DatasetInfo, arrays: dict[str, np.ndarray]) -> None:
    # Compressed: digits on a black background shrink several times over, and inflating them costs far less
    # than one epoch of training on them.
    np.savez_compressed(folder / ARRAYS_FILE, **arrays)
    (folder / INFO_FILE).write_text(json.dumps(asdict(info), indent=2, sort_keys=True) + "\n")


# --- reading -----------------------------------------------------------------------------------------------------

def registered_names(root: Path) -> list[str]:
    """The names of the folders under ``root/datasets`` that could be data sets, sorted; none when it is absent."""
    folder = datasets_folder(root)
    try:
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and is_registered_name(p.name))
    except OSError:  # no datasets folder yet (or an unreadable one: reading a data set says why)
        return []


def _damaged(file: Path, name: str, clause: str) -> DataUnavailableError:
    return DataUnavailableError(f"{file} {clause}: register it again with `vae-explorer data add {name} PATH "
                                "--replace`")


def read_info(root: Path, name: str) -> DatasetInfo:
    """dataset.json of data set ``name``, bounded and checked; ``DataUnavailableError`` when it is not registered
    or its file is damaged."""
    folder = datasets_folder(root) / name
    if not is_registered_name(name) or not folder.is_dir():
        choices = ", ".join((*DATASETS, *registered_names(root)))
        raise DataUnavailableError(
            f"unknown dataset {name!r}: choose one of {choices} or register it with `vae-explorer data add {name} "
            f"PATH` (registered data sets are read from {folder.parent}; --checkpoint-dir or {CHECKPOINT_DIR_ENV} "
            "picks another checkpoint root)")
    file = folder / INFO_FILE
    try:
        data = read_json(file, INFO_MAX_BYTES, "a dataset.json holds")
    except FileNotFoundError:
        raise _damaged(file, name, "is missing") from None
    except (HeaderError, OSError) as error:
        raise _damaged(file, name, str(error)) from error
    try:
        info = _info_from(data, name)
    except (TypeError, ValueError) as error:
        raise _damaged(file, name, f"is not one `data add` writes ({error})") from error
    return info


def _info_from(data: object, name: str) -> DatasetInfo:
    """dataset.json's object -> ``DatasetInfo``, every value within its bound (TypeError / ValueError if not)."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    if data.get("format") != FORMAT:
        raise ValueError(f"format {data.get('format')!r}, this vae_core reads {FORMAT}")
    info = DatasetInfo(**{**data, "class_names": tuple(data.get("class_names") or ())})
    if info.name != name:
        raise ValueError(f"it names {info.name!r}")
    counts = (info.train_count, info.test_count, info.channels, info.side, info.seed)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in counts):
        raise TypeError("a count, size or seed is not an integer")
    names_ok = all(isinstance(n, str) and 0 < len(n) <= MAX_CLASS_NAME for n in info.class_names)
    if not (names_ok and 0 < len(info.class_names) <= MAX_CLASSES):
        raise ValueError(f"class_names must be 1 to {MAX_CLASSES} names")
    if info.channels not in (1, 3) or not MIN_SIDE <= info.side <= MAX_SIDE:
        raise ValueError(f"images of {info.channels} x {info.side} x {info.side}")
    total = info.train_count + info.test_count
    if info.train_count < 1 or not 1 <= info.test_count <= MAX_TEST_IMAGES or total * info.side ** 2 * 3 > MAX_VALUES:
        raise ValueError(f"{info.train_count} train and {info.test_count} test images")
    return info


def load_arrays(root: Path, name: str, train: bool) -> tuple[np.ndarray, np.ndarray, DatasetInfo]:
    """(images uint8 [N, C, S, S], labels int64 [N], info) of one split of registered data set ``name``.

    The .npy headers must declare exactly the shapes dataset.json states before anything is inflated,
    and the labels must name its classes.
    """
    info = read_info(root, name)
    split = SPLITS[0] if train else SPLITS[1]
    count = info.train_count if train else info.test_count
    shapes = {f"{split}_images": ((count, info.channels, info.side, info.side), np.uint8),
              f"{split}_labels": ((count,), np.int64)}
    file = datasets_folder(root) / name / ARRAYS_FILE
    if not file.is_file():
        raise _damaged(file, name, "is missing" if not file.exists() else "is not a regular file")
    try:
        with open(file, "rb") as handle:
            arrays = _bounded_arrays(handle, shapes)
    except (HeaderError, OSError) as error:
        raise _damaged(file, name, str(error)) from error
    labels = arrays[f"{split}_labels"]
    if len(labels) and not (labels.min() >= 0 and labels.max() < len(info.class_names)):
        raise _damaged(file, name, f"holds {split} labels outside 0-{len(info.class_names) - 1}")
    return arrays[f"{split}_images"], labels, info


def _bounded_arrays(handle, shapes: dict[str, tuple[tuple[int, ...], type]]) -> dict[str, np.ndarray]:
    """The members named in ``shapes`` of an open .npz, each header checked to declare exactly its shape
    and dtype (and its zip entry to hold that much) before it is inflated."""
    directory = NpzDirectory(handle)
    for member, (shape, dtype) in shapes.items():
        if member not in directory.sizes:
            raise HeaderError(f"lacks {member}")
        header = directory.bounded_header(member, math.prod(shape), f" where dataset.json states {shape}")
        if header.shape != shape or header.dtype != np.dtype(dtype):
            raise HeaderError(f"holds {member} of shape {header.shape} and dtype {header.dtype} where "
                              f"dataset.json states {shape} of {np.dtype(dtype)}")
    handle.seek(0)
    try:
        with np.load(handle, allow_pickle=False) as archive:
            return {member: archive[member] for member in shapes}
    except (ValueError, EOFError, zlib.error, zipfile.BadZipFile) as error:  # damaged data: a bad CRC, a cut stream
        raise HeaderError(f"is not a readable .npz archive ({' '.join(str(error).split())[:80]})") from error


def list_datasets(root: Path) -> tuple[list[DatasetInfo], list[tuple[str, str]]]:
    """The registered data sets under ``root`` whose dataset.json reads, and (name, message) for the others."""
    infos, problems = [], []
    for name in registered_names(root):
        try:
            infos.append(read_info(root, name))
        except DataUnavailableError as error:
            problems.append((name, str(error)))
    return infos, problems
