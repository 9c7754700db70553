"""The checkpoint cache: the only module that reads or writes the checkpoint directory.

Layout of one checkpoint, a directory named by ``run_name``::

    model.safetensors   weights only (never a pickle)
    config.json         format version, model + training config, versions, source
    history.json        one row per epoch (see ``train.EpochRecord``); absent for an imported model
    projections.npz     optional: PCA, then t-SNE and UMAP, of the encoded test set
    metrics.json        optional: results of ``vae-explorer evaluate``

An imported model (``vae-explorer import``: weights trained elsewhere) says where it came
from in config.json's ``source`` and has no history.json: ``Checkpoint.imported`` is True,
its ``history`` empty and its ``final`` None.

Names starting with '.' are work files (temporary builds, locks, resume points)
and are never listed as checkpoints.

Auxiliary models (the digit classifier of ``vae_core.classifier``) live beside the
VAEs as ``<name>/model.safetensors`` + ``<name>/config.json`` whose config holds
``"kind": "<kind>"`` (one of ``AUXILIARY_KINDS``); ``scan`` leaves them out, and they
are written and read only through ``save_auxiliary`` / ``load_auxiliary``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock
from safetensors import SafetensorError

from . import architectures, checks
from .atomic import TEMP_PREFIX, write_dir_atomic, write_file_atomic
from .atomic import recover_dir as _recover_swap
from .config import DATASETS, ConfigError, ModelConfig, TrainConfig, config_from_dict, to_dict
from .headers import HeaderError, TensorHeader, read_json, reason, safetensors_header
from .migrations import AUXILIARY_FORMAT_VERSION, FORMAT_VERSION, FormatError, migrate
from .shapes import parameter_shapes

if TYPE_CHECKING:
    import torch

    from .models import VariationalAutoencoder

# torch is imported by the functions that load or save weights: listing checkpoints reads the
# safetensors header and checks it with vae_core.shapes, so `vae-explorer list` starts fast and
# never reads weights (a page reads them when it needs the model).

CHECKPOINT_DIR_ENV = "VAE_CHECKPOINT_DIR"
DEFAULT_CHECKPOINT_DIR = "./checkpoints"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"
PROJECTIONS_FILE = "projections.npz"
METRICS_FILE = "metrics.json"
AUXILIARY_KINDS = ("classifier",)  # config.json "kind" values that mark a non-VAE model
HISTORY_KEYS = ("epoch", "train_loss", "train_recon", "train_kl",
                "test_loss", "test_recon", "test_kl", "seconds")
STALE_TEMP_SECONDS = 600  # a save renames its temporary file within seconds; an older one is a killed save's
RESUME_META_MAX_BYTES = 4 << 20  # state.json: a config and up to config.MAX_EPOCHS history rows
SOURCE_KEYS = ("kind", "format", "file", "sha256", "imported")  # an import record's fields; each a string


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Checkpoint:
    """A validated checkpoint on disk (weights not loaded yet: see ``load_model``)."""

    path: Path
    model_config: ModelConfig
    train_config: TrainConfig
    history: list[dict] = field(repr=False)  # empty for an imported model
    info: dict = field(repr=False, default_factory=dict)  # versions, device, created
    source: dict | None = field(repr=False, default=None)  # None: trained here; else the import record

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def imported(self) -> bool:
        """Whether the weights were trained elsewhere and imported (``vae-explorer import``): no history then."""
        return self.source is not None

    @property
    def final(self) -> dict | None:
        """The last epoch's history row; None for an imported model, which has none
        (its test loss is ``metrics.json``'s ``elbo``, see ``vae_core.evaluate``)."""
        return self.history[-1] if self.history else None

    @property
    def train_seconds(self) -> float:
        return sum(row["seconds"] for row in self.history)


@dataclass(frozen=True)
class Problem:
    """A directory under the root that is not a usable checkpoint, and why."""

    path: Path
    message: str


def resolve_checkpoint_dir(checkpoint_dir: str | os.PathLike | None = None) -> Path:
    """The argument, else $VAE_CHECKPOINT_DIR, else ./checkpoints."""
    return Path(checkpoint_dir or os.environ.get(CHECKPOINT_DIR_ENV) or DEFAULT_CHECKPOINT_DIR)


def run_name(model_config: ModelConfig, train_config: TrainConfig) -> str:
    """Directory name derived from everything that changes the weights.

    The MLP with beta = 1 keeps the name of format version 1 (``mnist-z20-h400-e12-b128-lr0.001-s0``);
    a conv model says ``-conv`` and has no hidden width, a plugin's says its name before the latent size
    and keeps the hidden width (``mnist-leaky-z2-h400-...``), a KL weight other than 1 adds ``-beta4``.
    """
    architecture, latent, hidden = model_config.architecture, model_config.latent_dim, model_config.hidden_dim
    model = {"conv": f"conv-z{latent}", "mlp": f"z{latent}-h{hidden}"}.get(architecture,
                                                                          f"{architecture}-z{latent}-h{hidden}")
    beta = "" if train_config.beta == 1 else f"-beta{train_config.beta:g}"
    return (f"{train_config.dataset}-{model}-e{train_config.epochs}-b{train_config.batch_size}"
            f"-lr{train_config.lr:g}-s{train_config.seed}{beta}")


def checkpoint_path(root: Path, name: str) -> Path:
    """``root / name`` for a plain directory name; anything that could leave the root fails.

    Names arrive from query parameters and widgets, so '..', separators and hidden
    names are refused rather than resolved.
    """
    bad = (not name or name.startswith(".") or "/" in name or "\\" in name
           or "\x00" in name or Path(name).name != name)
    if bad:
        raise CheckpointError(f"{name!r} is not a checkpoint name: pick one listed by `vae-explorer list`")
    path = (root / name).resolve()
    if path.parent != root.resolve():
        raise CheckpointError(f"{name!r} leads outside the checkpoint directory {root} (to {path}): "
                              "move the folder into it rather than linking to it")
    return path


def lock_for(root: Path, name: str) -> FileLock:
    """An inter-process lock per run name: one process trains a config at a time."""
    root.mkdir(parents=True, exist_ok=True)
    return FileLock(str(root / f".lock-{name}"))


def _read_json(path: Path, max_bytes: int, bound: str = "") -> object:
    """JSON of at most ``max_bytes`` (``bound`` says whose limit that is), nested and sized within bounds."""
    try:
        return read_json(path, max_bytes, bound)
    except FileNotFoundError as error:
        raise CheckpointError(f"{path} is missing: retrain with `vae-explorer train --force`") from error
    except HeaderError as error:
        raise CheckpointError(f"{path} {error}: retrain with --force") from error


def _parse_source(file: Path, source: object) -> dict | None:
    """config.json's ``source``: None for a model trained here, else an import record (``SOURCE_KEYS``)."""
    if source is None:
        return None
    valid = (isinstance(source, dict) and source.get("kind") == "import"
             and all(isinstance(source.get(key), str) for key in SOURCE_KEYS))
    if not valid:
        raise CheckpointError(f"{file}: source must be null or an import record with {', '.join(SOURCE_KEYS)}: "
                              "import the model again with `vae-explorer import --force`")
    return source


def _parse_config(path: Path) -> tuple[ModelConfig, TrainConfig, dict, dict | None]:
    data = _read_json(path / CONFIG_FILE, checks.CONFIG_MAX_BYTES)
    if not isinstance(data, dict):
        raise CheckpointError(f"{path / CONFIG_FILE} is not a JSON object: retrain with --force")
    try:
        data = migrate(data, path.name)
    except FormatError as error:
        raise CheckpointError(str(error)) from error
    try:
        model_config = config_from_dict(ModelConfig, data.get("model"))
        train_config = config_from_dict(TrainConfig, data.get("train"))
    except (ConfigError, TypeError) as error:
        raise CheckpointError(f"{path / CONFIG_FILE}: {error}; retrain with --force") from error
    return model_config, train_config, data.get("info", {}), _parse_source(path / CONFIG_FILE, data.get("source"))


def _parse_history(path: Path, epochs: int) -> list[dict]:
    """The per-epoch rows: at most ``epochs`` of them, every value a finite number.

    The file's size is bounded by the epochs before it is read, so a history of a million rows
    costs a stat call, not a parse.
    """
    file = path / HISTORY_FILE
    rows = _read_json(file, checks.history_max_bytes(epochs), f"its {epochs} epochs need")
    valid = isinstance(rows, list) and rows and all(
        isinstance(row, dict) and all(isinstance(row.get(k), (int, float)) for k in HISTORY_KEYS)
        for row in rows
    )
    if not valid:
        raise CheckpointError(f"{file} has no valid per-epoch rows: retrain with --force")
    if len(rows) > epochs:
        raise CheckpointError(f"{file} holds {len(rows)} epochs but config.json trains {epochs}: retrain with --force")
    for row in rows:
        for key in HISTORY_KEYS:
            if not math.isfinite(row[key]):  # a NaN loss would be listed, sorted and charted as a model
                raise CheckpointError(f"{file} has {key} = {row[key]} at epoch {row['epoch']}: retrain with --force")
    return rows


def read_checkpoint(path: Path) -> Checkpoint:
    """Validate config, history and the weights' names and shapes; raise ``CheckpointError``."""
    try:
        return _read_checkpoint(path)
    except OSError as error:  # e.g. a folder this user may not read
        raise CheckpointError(f"{path} cannot be read ({error.strerror or error}): check its permissions") from error


def _read_checkpoint(path: Path) -> Checkpoint:
    if not (path / MODEL_FILE).is_file():
        raise CheckpointError(f"{path / MODEL_FILE} is missing: retrain with `vae-explorer train --force`")
    model_config, train_config, info, source = _parse_config(path)
    history = [] if source is not None else _parse_history(path, train_config.epochs)  # imported: none kept
    checkpoint = Checkpoint(path, model_config, train_config, history, info, source)
    _checked_header(checkpoint)  # names, shapes and extent from the header; values are read by load_model
    return checkpoint


def load_file(file: Path, framework: str = "pt") -> dict:
    """safetensors' reader: torch tensors (``pt``) or numpy arrays (``np``); it parses a header, never runs code."""
    if framework == "np":
        from safetensors.numpy import load_file as load_numpy

        return load_numpy(file)
    from safetensors.torch import load_file as load_torch

    return load_torch(file)


def save_file(tensors: dict, path: Path) -> None:
    """safetensors' writer for torch tensors."""
    from safetensors.torch import save_file as save_torch

    save_torch(tensors, path)


def _read_weights(file: Path, fix: str, framework: str = "pt") -> dict:
    """The tensors of a safetensors file; unreadable or non-finite ones raise ``CheckpointError`` ending in ``fix``."""
    try:
        tensors = load_file(file, framework)
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{file} is not a readable safetensors file ({reason(error)}): {fix}") from error
    for key, tensor in tensors.items():
        finite = np.isfinite(tensor).all() if framework == "np" else tensor.isfinite().all()
        if not finite:
            raise CheckpointError(f"{file}: {key} contains NaN or inf values: {fix}")
    return tensors


def _check_shapes(file: Path, config: ModelConfig, shapes: dict[str, tuple[int, ...]]) -> None:
    """``CheckpointError`` unless ``shapes`` are exactly the tensors the config's architecture has.

    A plugin's shapes come from its class (built on the meta device): one that cannot be built is this error.
    """
    try:
        expected = parameter_shapes(config)
    except ConfigError as error:
        raise CheckpointError(f"{file}: {error}") from error
    if shapes.keys() != expected.keys():
        raise CheckpointError(f"{file} holds different tensors than a {config.architecture} VAE "
                              "has: config and weights come from different models, retrain with --force")
    for key, shape in shapes.items():
        if shape != expected[key]:
            raise CheckpointError(
                f"{file}: {key} has shape {shape} but config.json (latent {config.latent_dim}) needs "
                f"{expected[key]}: config and weights come from different models, retrain with --force"
            )


def _checked_header(checkpoint: Checkpoint) -> dict[str, TensorHeader]:
    """The safetensors header, its tensors shaped as the config needs and tiling the file exactly.

    Only the header is read, so a sparse file that declares gigabytes costs a few kilobytes;
    and since the shapes must be the config's, what ``load_model`` reads is bounded by the config.
    """
    file = checkpoint.path / MODEL_FILE
    try:
        tensors = safetensors_header(file)
    except HeaderError as error:
        raise CheckpointError(f"{file} is not a readable safetensors file ({error}): retrain with --force") from error
    _check_shapes(file, checkpoint.model_config, {key: tensor.shape for key, tensor in tensors.items()})
    return tensors


def _checked_weights(checkpoint: Checkpoint, framework: str = "pt") -> dict:
    """The weights, readable, finite and shaped as the config's architecture needs, else ``CheckpointError``.

    The header is checked again first: the file may have changed since it was listed.
    """
    _checked_header(checkpoint)
    file = checkpoint.path / MODEL_FILE
    tensors = _read_weights(file, "retrain with --force", framework)
    _check_shapes(file, checkpoint.model_config, {key: tuple(tensor.shape) for key, tensor in tensors.items()})
    return tensors


def load_model(checkpoint: Checkpoint, device: str | torch.device = "cpu") -> VariationalAutoencoder:
    """The trained VAE (the class its architecture names) in eval mode on ``device``."""
    from .models import build_model

    model = build_model(checkpoint.model_config)
    model.load_state_dict(_checked_weights(checkpoint, "pt"))  # checked again: the file may have changed
    return model.to(device).eval()


def sort_key(checkpoint: Checkpoint) -> tuple:
    """How checkpoints are listed: by dataset, architecture (MLP, conv, then plugins), latent size, beta, then name."""
    model, train = checkpoint.model_config, checkpoint.train_config
    dataset = DATASETS.index(train.dataset) if train.dataset in DATASETS else len(DATASETS)
    names = architectures.names()
    architecture = names.index(model.architecture) if model.architecture in names else len(names)
    return dataset, architecture, model.latent_dim, train.beta, checkpoint.name


# Registered image data sets live in this folder of the checkpoint root (``vae_core.user_data``): not checkpoints.
DATASETS_FOLDER = "datasets"


def scan(root: Path) -> tuple[list[Checkpoint], list[Problem]]:
    """Every usable checkpoint under ``root`` (in ``sort_key`` order), and the rest.

    A missing root is empty; an unreadable one raises ``CheckpointError``.
    """
    checkpoints: list[Checkpoint] = []
    problems: list[Problem] = []
    try:
        if not root.is_dir():
            return checkpoints, problems
        paths = sorted(p for p in root.iterdir()
                       if p.is_dir() and not p.name.startswith(".") and p.name != DATASETS_FOLDER)
    except OSError as error:  # the root itself is unreadable: nothing can be listed
        raise CheckpointError(
            f"cannot read the checkpoint directory {root} ({error.strerror or error}): fix its "
            f"permissions or point --checkpoint-dir / {CHECKPOINT_DIR_ENV} elsewhere") from error
    for path in paths:
        try:
            checkpoint_path(root, path.name)  # a link that leads outside the root: refused as `export` refuses it
            if _auxiliary_config(path) is not None:  # e.g. the digit classifier: not a VAE
                continue
            checkpoint = read_checkpoint(path)
        except CheckpointError as error:
            problems.append(Problem(path, str(error)))
            continue
        checkpoints.append(checkpoint)
        problems += [Problem(path, message) for message in cache_problems(checkpoint)]
    checkpoints.sort(key=sort_key)
    return checkpoints, problems


def cache_problems(checkpoint: Checkpoint) -> list[str]:
    """One message per cache file beside the weights whose headers break a bound; the model stays usable.

    Absent caches, and metrics of another version, are not problems: they are computed on request.
    """
    from .replay import check_replay_headers

    problems = []
    for read in (_projection_headers, _metrics, check_replay_headers):
        try:
            read(checkpoint)
        except CheckpointError as error:
            problems.append(str(error))
    return problems


def holds_auxiliary(path: Path) -> bool:
    """Whether ``path`` is an auxiliary model's folder (e.g. the digit classifier), not a VAE's."""
    return _auxiliary_config(path) is not None


def _auxiliary_config(path: Path) -> dict | None:
    """The config.json of an auxiliary model directory, or None for anything else (VAE or broken)."""
    try:
        data = read_json(path / CONFIG_FILE, checks.CONFIG_MAX_BYTES)
    except (OSError, HeaderError):
        return None
    return data if isinstance(data, dict) and data.get("kind") in AUXILIARY_KINDS else None


def save_auxiliary(root: Path, name: str, kind: str, weights: dict[str, torch.Tensor], config: dict,
                   device: str = "cpu") -> Path:
    """Atomically write ``root/name/`` holding ``weights`` (safetensors) and ``config`` + kind (JSON)."""
    if kind not in AUXILIARY_KINDS:
        raise CheckpointError(f"unknown auxiliary kind {kind!r}: use one of {', '.join(AUXILIARY_KINDS)}")
    target = checkpoint_path(root, name)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
    data = {**config, "kind": kind, "format_version": AUXILIARY_FORMAT_VERSION, "info": _info(device)}

    def write(directory: Path) -> None:
        _save_weights(tensors, directory / MODEL_FILE)
        _write_json(directory / CONFIG_FILE, data)

    write_dir_atomic(target, write)
    return target


def load_auxiliary(root: Path, name: str, kind: str, fix: str) -> tuple[dict[str, torch.Tensor], dict]:
    """(weights, config) of the auxiliary model ``root/name``; ``CheckpointError`` ending in ``fix``."""
    path = checkpoint_path(root, name)
    data = _auxiliary_config(path)
    if data is None or data["kind"] != kind:
        raise CheckpointError(f"no {kind} in {path}: {fix}")
    if data.get("format_version") != AUXILIARY_FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {data.get('format_version')!r}, "
                              f"this vae_core reads {AUXILIARY_FORMAT_VERSION}: {fix}")
    return _read_weights(path / MODEL_FILE, fix), data


def find(root: Path, model_config: ModelConfig, train_config: TrainConfig) -> Checkpoint | None:
    """The cached checkpoint for this config, or None when absent or unusable."""
    path = root / run_name(model_config, train_config)
    try:
        return read_checkpoint(path) if path.is_dir() else None
    except CheckpointError:
        return None


def _torch_version() -> str:
    import torch

    return torch.__version__


def machine_id() -> str:
    """12 hex digits naming this machine (host name, processor, cores): the Train page times new runs from the
    epochs of runs made here, not from the shipped models' (another machine's)."""
    import hashlib

    described = "|".join((platform.node(), platform.machine(), platform.processor(), str(os.cpu_count())))
    return hashlib.blake2b(described.encode(), digest_size=6).hexdigest()


def _info(device: str) -> dict:
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_id(),
        "device": device,
        "python": platform.python_version(),
        "torch": _torch_version(),
    }


def save_checkpoint(root: Path, model: VariationalAutoencoder, train_config: TrainConfig,
                    history: list[dict], device: str = "cpu") -> Checkpoint:
    """Write a checkpoint directory atomically and return it, re-read from disk."""
    if not all(math.isfinite(row["test_loss"]) for row in history):
        raise CheckpointError("refusing to save a model whose history has NaN or inf losses")
    target = root / run_name(model.config, train_config)
    _write_checkpoint(target, model, _config(model, train_config, device, None), history)
    return read_checkpoint(target)


def save_imported(root: Path, name: str, model: VariationalAutoencoder, train_config: TrainConfig,
                  source: dict) -> Checkpoint:
    """Write the checkpoint ``root/name`` of weights trained elsewhere atomically: weights and config.json
    (whose ``source`` is the import record, see ``SOURCE_KEYS``), no history.json; return it, re-read.

    An existing ``root/name`` is replaced: the caller holds ``lock_for(root, name)`` and has decided it may.
    """
    target = checkpoint_path(root, name)
    _parse_source(target / CONFIG_FILE, source)  # what is written must read back
    _write_checkpoint(target, model, _config(model, train_config, "cpu", source), None)
    return read_checkpoint(target)


def _config(model: VariationalAutoencoder, train_config: TrainConfig, device: str, source: dict | None) -> dict:
    """config.json of a VAE checkpoint in the current format version."""
    return {"format_version": FORMAT_VERSION, "model": to_dict(model.config), "train": to_dict(train_config),
            "info": _info(device), "source": source}


def _write_checkpoint(target: Path, model: VariationalAutoencoder, config: dict, history: list[dict] | None) -> None:
    """Swap in the directory ``target``: weights, config.json, and history.json unless ``history`` is None."""
    weights = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}

    def write(directory: Path) -> None:
        _save_weights(weights, directory / MODEL_FILE)
        _write_json(directory / CONFIG_FILE, config)
        if history is not None:
            _write_json(directory / HISTORY_FILE, history)

    write_dir_atomic(target, write)


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it


def _save_weights(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """safetensors creates its file 0600 whatever the umask; give it the mode any new file gets,
    so a checkpoint folder shared with other users (or their dashboard) is readable to them."""
    save_file(tensors, path)
    os.chmod(path, 0o666 & ~_UMASK)


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_json_artifact(checkpoint: Checkpoint, filename: str, data: object) -> Path:
    """Atomically write a JSON cache file (e.g. ``metrics.json``) beside the weights."""
    target = checkpoint.path / filename
    remove_stale_temp_files(checkpoint.path)
    write_file_atomic(target, lambda tmp: _write_json(tmp, data))
    return target


def read_json_artifact(checkpoint: Checkpoint, filename: str) -> object | None:
    """A JSON cache file beside the weights (at most ``checks.METRICS_MAX_BYTES``), or None when absent or unusable."""
    try:
        return read_json(checkpoint.path / filename, checks.METRICS_MAX_BYTES)
    except (OSError, HeaderError):
        return None


def _metrics(checkpoint: Checkpoint) -> object | None:
    """metrics.json, None when absent; ``CheckpointError`` naming the fix when it breaks a bound."""
    file = checkpoint.path / METRICS_FILE
    try:
        return read_json(file, checks.METRICS_MAX_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, HeaderError) as error:
        raise CheckpointError(f"{file} {error}: run `vae-explorer evaluate --dataset "
                              f"{checkpoint.train_config.dataset} --force`") from error


def _projections_error(checkpoint: Checkpoint, error: Exception) -> CheckpointError:
    return CheckpointError(f"{checkpoint.path / PROJECTIONS_FILE} {error}: run `vae-explorer project --dataset "
                           f"{checkpoint.train_config.dataset}` to compute it again")


def _projection_headers(checkpoint: Checkpoint) -> None:
    """Check projections.npz from its zip directory and two .npy headers (nothing is inflated)."""
    try:
        with open(checkpoint.path / PROJECTIONS_FILE, "rb") as handle:
            checks.projection_sizes(handle, checkpoint.model_config.latent_dim)
    except FileNotFoundError:
        return
    except (OSError, HeaderError) as error:
        raise _projections_error(checkpoint, error) from error


def final_test_losses(checkpoint: Checkpoint) -> dict[str, float | None]:
    """test_loss, test_recon, test_kl: the last epoch's; for an imported model (no history) metrics.json's
    ``elbo`` when `evaluate` has run, else None."""
    if checkpoint.final is not None:
        return {key: checkpoint.final[key] for key in ("test_loss", "test_recon", "test_kl")}
    metrics = read_json_artifact(checkpoint, METRICS_FILE)
    elbo = metrics.get("elbo") if isinstance(metrics, dict) else None
    elbo = elbo if isinstance(elbo, dict) else {}
    values = {f"test_{term}": elbo.get(key) for term, key in (("loss", "loss"), ("recon", "recon"), ("kl", "kl"))}
    return {key: value if _finite_number(value) else None for key, value in values.items()}


def _finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_projections(checkpoint: Checkpoint) -> dict | None:
    """The cached maps of ``checkpoint``, None when absent; ``CheckpointError`` when they break a bound.

    Every array is checked against the model's latent size and the test set's size from its header
    before it is inflated, then for finite values and indices inside the test set. The quick maps
    (mu, labels, pca, pca_explained) are always there; t-SNE (tsne with its tsne_index, both or
    neither) and umap are absent until they have been computed.
    """
    try:
        with open(checkpoint.path / PROJECTIONS_FILE, "rb") as handle:
            return checks.read_projections(handle, checkpoint.model_config.latent_dim)
    except FileNotFoundError:
        return None
    except (OSError, HeaderError) as error:
        raise _projections_error(checkpoint, error) from error


def write_arrays_artifact(checkpoint: Checkpoint, filename: str, arrays: dict) -> Path:
    """Atomically write a ``.npz`` of numpy arrays (no object arrays) beside the weights."""
    import numpy as np

    target = checkpoint.path / filename
    remove_stale_temp_files(checkpoint.path)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    write_file_atomic(target, write)
    return target


def read_arrays_artifact(checkpoint: Checkpoint, filename: str) -> dict | None:
    """The arrays of a ``.npz`` beside the weights (pickles refused), or None; projections.npz is
    read through ``read_projections``, which bounds each array before inflating it."""
    if filename == PROJECTIONS_FILE:
        try:
            return read_projections(checkpoint)
        except CheckpointError:
            return None
    import zipfile
    import zlib

    import numpy as np

    try:
        with np.load(checkpoint.path / filename, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):
        return None


def recover_dir(target: Path) -> None:
    """Clean up after a process killed while saving ``target`` (a checkpoint or a resume point).

    ``atomic.recover_dir`` restores or deletes the directory-level work files beside it; the
    temporary files a killed cache save (projections.npz, metrics.json) left inside it go too.
    Call it while holding ``lock_for(root, name)``.
    """
    _recover_swap(target)
    remove_stale_temp_files(target)


def remove_stale_temp_files(folder: Path) -> None:
    """Delete the ``.tmp-*`` files in ``folder`` older than ``STALE_TEMP_SECONDS``.

    Cache files are saved without the training lock (`project` and `evaluate` run beside a
    training), so a young temporary file may be a save in progress: only old ones are removed.
    """
    if not folder.is_dir():
        return
    cutoff = time.time() - STALE_TEMP_SECONDS
    for leftover in folder.glob(f"{TEMP_PREFIX}*"):
        try:
            if leftover.lstat().st_mtime >= cutoff:
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink()
        except OSError:  # gone already, or not ours to delete: the next recovery tries again
            continue


RESUME_TENSORS = "state.safetensors"
RESUME_META = "state.json"


def _resume_dir(root: Path, name: str) -> Path:
    return root / f".resume-{name}"


def save_resume_point(root: Path, name: str, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Atomically record a run's state after a completed epoch (hidden: never listed)."""

    def write(directory: Path) -> None:
        save_file({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()},
                  directory / RESUME_TENSORS)
        _write_json(directory / RESUME_META, meta)

    write_dir_atomic(_resume_dir(root, name), write)


def load_resume_point(root: Path, name: str) -> tuple[dict[str, torch.Tensor], dict] | None:
    """The last resume point for ``name``, or None when there is none or it is unreadable.

    Call it while holding ``lock_for(root, name)``: it first finishes or discards a save
    that a killed process left halfway.
    """
    directory = _resume_dir(root, name)
    recover_dir(directory)
    if not directory.is_dir():
        return None
    try:
        meta = read_json(directory / RESUME_META, RESUME_META_MAX_BYTES)
        return load_file(directory / RESUME_TENSORS), meta
    except (OSError, ValueError, SafetensorError):
        return None


def resume_epochs(root: Path, name: str) -> int:
    """How many completed epochs the resume point for ``name`` holds (0 when none); read-only."""
    try:
        meta = read_json(_resume_dir(root, name) / RESUME_META, RESUME_META_MAX_BYTES)
        return len(meta["history"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def clear_resume_point(root: Path, name: str) -> None:
    recover_dir(_resume_dir(root, name))  # first, or a leftover '.old-' copy would come back
    shutil.rmtree(_resume_dir(root, name), ignore_errors=True)

