"""Training replay: how a latent space formed, epoch by epoch, kept small enough to ship.

During training a ``ReplayRecorder`` keeps, after each epoch (and for the initialisation, epoch 0):

- the posterior means of a fixed subset of ``SUBSET_SIZE`` test images, projected to 2-D: at
  z = 2 the latent coordinates themselves, otherwise that epoch's own PCA (aligned later, by
  ``aligned``, so the picture does not spin);
- an 8 x 8 grid decoded from ``GRID_COUNT`` fixed prior draws, as uint8 pictures of the model's images
  ([64, S, S] grey, [64, S, S, 3] RGB; [64, 28, 28] for MNIST).

The subset and the draws depend on the data set and the latent size only (``REPLAY_SEED``), so
every model of a data set replays the same digits. The recorder travels inside a resume point
(``to_tensors`` / ``from_tensors``) and ends as ``replay.npz`` beside the weights (``save``);
``load_replay`` reads one back with its bounds checked before anything is inflated.

Wiring into a run (``runs.Run.train``)::

    recorder = ReplayRecorder.for_run(model_config, train_config, test_split)
    recorder.record(state.model, 0)                 # a fresh state: the initialisation
    ...on_epoch(state): recorder.record(state.model, state.epochs_done)
                        tensors.update(recorder.to_tensors())   # into the resume point
    recorder.save(checkpoint.path)                  # after store.save_checkpoint
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from .config import MAX_EPOCHS, MAX_LATENT_DIM, MAX_SIDE, MIN_SIDE, ModelConfig, TrainConfig
from .headers import ArrayHeader, HeaderError, NpzDirectory, reason

if TYPE_CHECKING:
    import torch

    from .data import Split
    from .models import VariationalAutoencoder
    from .store import Checkpoint

REPLAY_FILE = "replay.npz"
SUBSET_SIZE = 2000  # test images whose means are replayed
GRID_SIDE = 8
GRID_COUNT = GRID_SIDE * GRID_SIDE  # prior draws decoded into the sample grid
REPLAY_SEED = 20_240  # one subset and one set of draws per data set and latent size, whatever the run's seed
IMAGE_SIDE = 28  # MNIST's: a replay read without its model's config may hold any side (``picture_of``)
RGB = 3
CLASSES = 10
MAX_TEST_IMAGES = 10_000
TENSOR_PREFIX = "replay."  # keys in a resume point's safetensors
ARRAYS = ("latent_dim", "epochs", "index", "labels", "coords", "grids")
FIX = "retrain it with `vae-explorer train --force` to record its replay again"


@dataclass(frozen=True)
class Replay:
    """A recorded replay, E + 1 epochs (0 is the initialisation) of M test digits.

    epochs [E+1] int (0, 1, ..., E); index [M] the subset's test rows; labels [M] its classes;
    coords [E+1, M, 2] float32, each epoch's own 2-D map (not aligned: see ``aligned``);
    grids [E+1, 64, S, S] (grey) or [E+1, 64, S, S, 3] (RGB) uint8, the decoded prior draws ([E+1, 64, 28, 28]
    for MNIST).
    """

    epochs: np.ndarray
    index: np.ndarray
    labels: np.ndarray
    coords: np.ndarray
    grids: np.ndarray
    latent_dim: int

    @property
    def last_epoch(self) -> int:
        return int(self.epochs[-1])

    @property
    def latent_axes(self) -> bool:
        """z = 2: the coordinates are the latent means themselves, not a projection."""
        return self.latent_dim == 2


def picture_of(model_config: ModelConfig) -> tuple[int, ...]:
    """The shape of one of the grid's pictures for a model: (S, S) grey, (S, S, 3) RGB; (28, 28) for MNIST."""
    side = model_config.side
    return (side, side) if model_config.channels == 1 else (side, side, RGB)


def subset_rows(test_count: int, count: int = SUBSET_SIZE) -> np.ndarray:
    """[min(count, test_count)] test rows, fixed by ``REPLAY_SEED`` (in a random order, so no class draws on top)."""
    return np.random.default_rng(REPLAY_SEED).permutation(test_count)[:count].astype(np.int64)


def pca_coords(mu: np.ndarray) -> np.ndarray:
    """mu [M, D] -> [M, 2]: the means on their two principal axes (a zero column where D < 2).

    numpy's SVD of a few thousand rows: sklearn's import alone would cost more than an epoch's recording.
    """
    centred = np.asarray(mu, dtype=np.float64) - np.mean(mu, axis=0, dtype=np.float64)
    out = np.zeros((len(centred), 2))
    if centred.shape[1] == 0 or not centred.any():
        return out.astype(np.float32)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    axes *= np.where(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)] < 0, -1, 1)[:, None]  # a fixed sign
    out[:, :len(axes)] = centred @ axes.T
    return out.astype(np.float32)


class ReplayRecorder:
    """Records one run's replay; ``record`` after every epoch, epoch 0 (the initialisation) included."""

    def __init__(self, latent_dim: int, images: torch.Tensor, labels: np.ndarray, index: np.ndarray,
                 prior: torch.Tensor, max_epochs: int = MAX_EPOCHS,
                 picture: tuple[int, ...] = (IMAGE_SIDE, IMAGE_SIDE)):
        self.latent_dim = latent_dim
        self.picture = tuple(picture)  # one decoded picture's shape (``picture_of``)
        self.images = images  # [M, C x S x S] float32 in [0, 1]: the subset's test images
        self.labels = np.asarray(labels, dtype=np.uint8)  # [M]
        self.index = np.asarray(index, dtype=np.int64)  # [M] their rows in the test split
        self.prior = prior  # [64, D] float32: the grid's draws
        self.max_epochs = max_epochs
        self.coords: list[np.ndarray] = []  # per recorded epoch: [M, 2] float16
        self.grids: list[np.ndarray] = []  # per recorded epoch: [64, *picture] uint8

    @classmethod
    def for_run(cls, model_config: ModelConfig, train_config: TrainConfig, test_split: Split) -> ReplayRecorder:
        """A recorder for this run: the data set's fixed subset of ``test_split`` and the fixed prior draws."""
        import torch

        from .explore import prior_samples

        index = subset_rows(len(test_split.labels))
        rows = torch.as_tensor(index)
        return cls(model_config.latent_dim, test_split.images[rows].float(), test_split.labels[rows].numpy(), index,
                   prior_samples(model_config.latent_dim, GRID_COUNT, REPLAY_SEED), train_config.epochs,
                   picture_of(model_config))

    @property
    def epochs_recorded(self) -> int:
        """How many epochs are recorded, epoch 0 included (a run of E epochs ends with E + 1)."""
        return len(self.coords)

    def record(self, model: VariationalAutoencoder, epoch: int) -> None:
        """Keep ``epoch``'s map of the subset and its decoded grid; model in eval mode for it, then restored.

        Epochs come in order from 0; recording an epoch already recorded (a run resumed from an
        older point) drops it and every later one first.
        """
        import torch

        if not 0 <= epoch <= min(self.epochs_recorded, self.max_epochs):
            raise ValueError(f"replay: epoch {epoch} cannot follow the {self.epochs_recorded} recorded "
                             f"(epochs 0 to {self.max_epochs})")
        del self.coords[epoch:], self.grids[epoch:]
        was_training = model.training
        model.eval()
        try:
            device = next(model.parameters()).device
            with torch.no_grad():
                mu = model.encode(self.images.to(device))[0].float().cpu().numpy()
                pixels = model.decode_images(self.prior.to(device)).float().cpu().numpy()
        finally:
            model.train(was_training)
        flat = mu if self.latent_dim == 2 else pca_coords(mu)
        self.coords.append(np.nan_to_num(flat, posinf=6e4, neginf=-6e4).clip(-6e4, 6e4).astype(np.float16))
        self.grids.append(np.clip(np.rint(pixels.reshape(GRID_COUNT, *self.picture) * 255), 0, 255)
                          .astype(np.uint8))

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``replay.npz`` holds: latent_dim [] int16 (the model's), epochs [E+1] int16, index [M] int32,
        labels [M] uint8, coords [E+1, M, 2] float16, grids [E+1, 64, *picture] uint8 (MNIST: [E+1, 64, 28, 28])."""
        count = len(self.index)
        return {"latent_dim": np.array(self.latent_dim, dtype=np.int16),
                "epochs": np.arange(self.epochs_recorded, dtype=np.int16),
                "index": self.index.astype(np.int32), "labels": self.labels.astype(np.uint8),
                "coords": np.stack(self.coords) if self.coords else np.zeros((0, count, 2), np.float16),
                "grids": (np.stack(self.grids) if self.grids
                          else np.zeros((0, GRID_COUNT, *self.picture), np.uint8))}

    def to_tensors(self) -> dict[str, torch.Tensor]:
        """The recorded epochs as named tensors (``replay.*``) to merge into a resume point's safetensors."""
        import torch

        return {TENSOR_PREFIX + name: torch.from_numpy(np.ascontiguousarray(array))
                for name, array in self.arrays().items() if name in ("index", "coords", "grids")}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], model_config: ModelConfig, train_config: TrainConfig,
                     test_split: Split) -> ReplayRecorder:
        """The recorder ``to_tensors`` saved (other keys of ``tensors`` are ignored); ``ValueError`` when
        the tensors are missing or belong to another subset, latent size or run length."""
        recorder = cls.for_run(model_config, train_config, test_split)
        try:
            index = tensors[TENSOR_PREFIX + "index"].numpy()
            coords = tensors[TENSOR_PREFIX + "coords"].numpy()
            grids = tensors[TENSOR_PREFIX + "grids"].numpy()
        except KeyError as error:
            raise ValueError(f"the resume point holds no replay ({error})") from error
        count = len(recorder.index)
        valid = (np.array_equal(index, recorder.index) and coords.dtype == np.float16 and grids.dtype == np.uint8
                 and coords.shape[1:] == (count, 2) and grids.shape[1:] == (GRID_COUNT, *recorder.picture)
                 and len(coords) == len(grids) <= train_config.epochs + 1)
        if not valid:
            raise ValueError("the resume point's replay belongs to another test subset or run")
        recorder.coords, recorder.grids = list(coords.copy()), list(grids.copy())
        return recorder

    def replay(self) -> Replay:
        """The epochs recorded so far, as ``load_replay`` would read them back."""
        arrays = self.arrays()
        return Replay(arrays["epochs"].astype(np.int64), arrays["index"].astype(np.int64),
                      arrays["labels"].astype(np.int64), arrays["coords"].astype(np.float32), arrays["grids"],
                      self.latent_dim)

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``replay.npz`` atomically into the folder ``path`` (or to ``path`` itself when it ends in .npz).

        Compressed: a 12-epoch replay is a few hundred kilobytes. Returns the file written.
        """
        from .atomic import write_file_atomic

        target = Path(path)
        if target.suffix != ".npz":
            target = target / REPLAY_FILE
        arrays = self.arrays()

        def write(temporary: Path) -> None:
            with open(temporary, "wb") as handle:
                np.savez_compressed(handle, **arrays)

        write_file_atomic(target, write)
        return target


# --- reading a replay back: every header bounded before any member is inflated -----------------------

def _most_values(name: str, epochs: int, picture: tuple[int, ...] | None) -> int:
    """What member ``name`` may hold for ``epochs``; grids of pictures of ``picture``'s shape (None: of any image
    the models read, up to ``MAX_SIDE`` x ``MAX_SIDE`` RGB)."""
    per_grid = GRID_COUNT * int(np.prod(picture if picture is not None else (MAX_SIDE, MAX_SIDE, RGB)))
    return {"latent_dim": 1, "epochs": epochs + 1, "index": MAX_TEST_IMAGES, "labels": MAX_TEST_IMAGES,
            "coords": (epochs + 1) * MAX_TEST_IMAGES * 2, "grids": (epochs + 1) * per_grid}[name]


def _grid_picture(grids: tuple[int, ...], picture: tuple[int, ...] | None) -> tuple[int, ...]:
    """The picture shape the grids must have: ``picture``, or (None) the one the header states when it is an image
    the models read (S x S grey or RGB, S from ``MIN_SIDE`` to ``MAX_SIDE``)."""
    if picture is not None:
        return picture
    stated = grids[2:]
    square = len(stated) in (2, 3) and stated[0] == stated[1] and MIN_SIDE <= stated[0] <= MAX_SIDE
    return stated if square and stated[2:] in ((), (RGB,)) else (IMAGE_SIDE, IMAGE_SIDE)


def _headers(handle: BinaryIO, epochs: int, picture: tuple[int, ...] | None = None) -> dict[str, ArrayHeader]:
    directory = NpzDirectory(handle)
    missing = [name for name in ARRAYS if name not in directory.sizes]
    if missing:
        raise HeaderError(f"lacks {', '.join(missing)}: it is not a replay")
    headers = {name: directory.bounded_header(name, _most_values(name, epochs, picture),
                                              f", more than {epochs} epochs can hold")
               for name in ARRAYS}
    kinds = {"latent_dim": "iu", "epochs": "iu", "index": "iu", "labels": "iu", "coords": "f", "grids": "u"}
    for name, header in headers.items():
        wide = header.dtype.itemsize > (1 if name == "grids" else 4)  # what save writes, or float32 at most
        if header.dtype.kind not in kinds[name] or wide:
            raise HeaderError(f"holds {name} as {header.dtype}")
    rows, count = headers["epochs"].shape, headers["index"].shape
    expected = {"latent_dim": (), "epochs": rows, "labels": count, "coords": (*rows, *count, 2),
                "grids": (*rows, GRID_COUNT, *_grid_picture(headers["grids"].shape, picture))}
    if len(rows) != 1 or len(count) != 1 or not rows[0]:
        raise HeaderError(f"holds epochs of shape {rows} and index of shape {count}")
    for name, shape in expected.items():
        if headers[name].shape != shape:
            raise HeaderError(f"holds {name} of shape {headers[name].shape}, expected {shape}")
    return headers


def _check_values(arrays: dict[str, np.ndarray], latent_dim: int) -> None:
    if int(arrays["latent_dim"]) != latent_dim:
        raise HeaderError(f"was recorded for latent size {int(arrays['latent_dim'])}, not this model's {latent_dim}")
    if not np.array_equal(arrays["epochs"], np.arange(len(arrays["epochs"]))):
        raise HeaderError("holds epochs that do not count 0, 1, 2, ...")
    if not np.isfinite(arrays["coords"]).all():
        raise HeaderError("holds NaN or inf coordinates")
    if len(arrays["labels"]) and not (arrays["labels"].min() >= 0 and arrays["labels"].max() < CLASSES):
        raise HeaderError(f"holds labels outside 0-{CLASSES - 1}")
    if len(arrays["index"]) and not (arrays["index"].min() >= 0 and arrays["index"].max() < MAX_TEST_IMAGES):
        raise HeaderError("holds test rows outside the test set")


def read_replay_file(file: Path, latent_dim: int, epochs: int = MAX_EPOCHS, fix: str = FIX,
                     picture: tuple[int, ...] | None = None) -> Replay | None:
    """The replay in ``file`` for a model of ``latent_dim`` trained for at most ``epochs``, None when absent; its grids
    of pictures of shape ``picture`` (``picture_of`` the model; None: of any image shape the models read).

    A file that breaks a bound raises ``store.CheckpointError``: one line naming the file and ``fix``.
    """
    import zipfile
    import zlib

    from .store import CheckpointError

    if not 1 <= latent_dim <= MAX_LATENT_DIM:
        raise CheckpointError(f"{file}: a replay of latent size {latent_dim} cannot exist: {fix}")
    try:
        with open(file, "rb") as handle:
            _headers(handle, epochs, picture)
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in ARRAYS}
        _check_values(arrays, latent_dim)
    except FileNotFoundError:
        return None
    except HeaderError as error:
        raise CheckpointError(f"{file} {error}: {fix}") from error
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise CheckpointError(f"{file} is not a readable replay ({reason(error)}): {fix}") from error
    return Replay(arrays["epochs"].astype(np.int64), arrays["index"].astype(np.int64),
                  arrays["labels"].astype(np.int64), arrays["coords"].astype(np.float32),
                  arrays["grids"].astype(np.uint8), latent_dim)


def check_replay_headers(checkpoint: Checkpoint) -> None:
    """A checkpoint's replay.npz checked from its zip directory and .npy headers only (nothing inflated):
    ``store.CheckpointError`` naming the file and the fix when it breaks a bound; nothing when absent."""
    import zipfile

    from .store import CheckpointError

    file = checkpoint.path / REPLAY_FILE
    try:
        with open(file, "rb") as handle:
            _headers(handle, checkpoint.train_config.epochs, picture_of(checkpoint.model_config))
    except FileNotFoundError:
        return
    except HeaderError as error:
        raise CheckpointError(f"{file} {error}: {_retrain_fix(checkpoint)}") from error
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{file} is not a readable replay ({reason(error)}): {_retrain_fix(checkpoint)}") \
            from error


def _retrain_fix(checkpoint: Checkpoint) -> str:
    return f"retrain it with `{retrain_command(checkpoint.model_config, checkpoint.train_config)}` to record it again"


def load_replay(checkpoint_or_path: Checkpoint | str | os.PathLike, latent_dim: int | None = None,
                epochs: int = MAX_EPOCHS, picture: tuple[int, ...] | None = None) -> Replay | None:
    """A checkpoint's replay (bounded by its config: latent size, epochs, the pictures' shape), or the replay file at
    a path (a growing one of a job in training: pass ``latent_dim``, and ``picture_of`` its model when known); None
    when there is none. Bad files raise ``store.CheckpointError``."""
    if isinstance(checkpoint_or_path, (str, os.PathLike)):
        if latent_dim is None:
            raise TypeError("load_replay(path) needs the model's latent_dim")
        file = Path(checkpoint_or_path)
        return read_replay_file(file if file.suffix == ".npz" else file / REPLAY_FILE, latent_dim, epochs,
                                picture=picture)
    checkpoint = checkpoint_or_path
    return read_replay_file(checkpoint.path / REPLAY_FILE, checkpoint.model_config.latent_dim,
                            checkpoint.train_config.epochs, _retrain_fix(checkpoint),
                            picture_of(checkpoint.model_config))


def retrain_command(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """The `vae-explorer train ... --force` line that trains this config again, its replay recorded."""
    defaults, flags = TrainConfig(), [f"--latent-dims {model_config.latent_dim}"]
    if model_config.architecture != "mlp":
        flags.append(f"--arch {model_config.architecture}")
    elif model_config.hidden_dim != ModelConfig(latent_dim=1).hidden_dim:
        flags.append(f"--hidden-dim {model_config.hidden_dim}")
    for field in ("dataset", "epochs", "batch_size", "lr", "seed", "beta"):
        value = getattr(train_config, field)
        if value != getattr(defaults, field):
            flags.append(f"--{field.replace('_', '-')} {value:g}" if isinstance(value, float)
                         else f"--{field.replace('_', '-')} {value}")
    return f"vae-explorer train {' '.join(flags)} --force"


def missing_note(checkpoint: Checkpoint) -> str:
    """The one line for a model without a replay, naming the fix (an imported model has no training to replay)."""
    if checkpoint.imported:
        return f"{checkpoint.name} was imported (`vae-explorer import`): it has no training here to replay"
    return (f"{checkpoint.name} was trained before replays were recorded: "
            f"`{retrain_command(checkpoint.model_config, checkpoint.train_config)}` records one")


def aligned(replay: Replay, scale: bool = True) -> np.ndarray:
    """coords [E+1, M, 2] float32 that do not spin: at z = 2 the latent means unchanged; otherwise each
    epoch's map moved onto the last epoch's by orthogonal Procrustes (rotation or reflection, then
    ``scale`` and translation), so only what the training changed moves between frames."""
    from scipy.linalg import orthogonal_procrustes

    coords = np.asarray(replay.coords, dtype=np.float64)
    if replay.latent_axes:
        return coords.astype(np.float32)
    target = coords[-1]
    target_centre = target.mean(axis=0)
    out = np.empty_like(coords)
    for e, points in enumerate(coords):
        centred = points - points.mean(axis=0)
        rotation, singular_sum = orthogonal_procrustes(centred, target - target_centre)
        norm = float((centred ** 2).sum())
        factor = singular_sum / norm if scale and norm > 0 else 1.0
        out[e] = factor * centred @ rotation + target_centre
    return out.astype(np.float32)


def fixed_range(coords: np.ndarray, margin: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """((x0, x1), (y0, y1)): one square window (equal units on both axes) holding every point of every
    epoch of coords [..., 2], with ``margin`` of its side to spare on each side."""
    flat = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    low, high = flat.min(axis=0), flat.max(axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 1e-3) * (1 + 2 * margin)
    return ((float(centre[0] - half), float(centre[0] + half)), (float(centre[1] - half), float(centre[1] + half)))


def replay_gif(replay: Replay, history: list[dict], frame_ms: int = 700) -> bytes:
    """An endlessly looping GIF, one frame per recorded epoch: the aligned map beside the sample grid,
    the epoch and its test loss written above them (drawn by ``vae_core.replay_figure``)."""
    from .replay_figure import replay_frames, save_gif

    return save_gif(replay_frames(replay, aligned(replay), history), frame_ms)
