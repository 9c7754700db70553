"""Weights trained elsewhere, read safely: the VAE of the pytorch/examples tutorial (``vae/main.py``).

The tutorial's VAE is our MLP (``vae_core.models.mlp``): 784 -> H -> (mu, logvar) in R^Z ->
H -> 784 with ReLU after each hidden layer, and a sigmoid on fc4's output, where our decoder
stops, so fc4 gives our logits. Its ``state_dict`` names the layers::

    fc1  [H, 784]  -> encoder_hidden        fc3  [H, Z]    -> decoder_hidden
    fc21 [Z, H]    -> encoder_mu            fc4  [784, H]  -> decoder_out
    fc22 [Z, H]    -> encoder_logvar        (each with its .weight and .bias)

Nothing in a file runs: a .pt or .pth is read only by ``torch.load(weights_only=True)``, which
refuses any Python object but tensors and plain containers; a .safetensors file has its header
checked (names, dtypes, shapes) before its data is read. Every file is bounded by its size
first, and every tensor is checked (a floating dtype, the shapes above, finite values) before
it becomes a model. Whatever fails is an ``ImportRefused`` with one line naming the file, the
problem and the fix.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .config import (
    IMAGE_PIXELS,
    MAX_HIDDEN_DIM,
    MAX_LATENT_DIM,
    MAX_PARAMETERS,
    ModelConfig,
    TrainConfig,
    mlp_parameters,
)
from .headers import HeaderError, reason, safetensors_header

if TYPE_CHECKING:
    import torch

    from .models import VAE

FORMAT = "pytorch-examples"
SUFFIXES = (".pt", ".pth", ".safetensors")
# Our MLP's layer for each of the tutorial's.
LAYERS = {"fc1": "encoder_hidden", "fc21": "encoder_mu", "fc22": "encoder_logvar",
          "fc3": "decoder_hidden", "fc4": "decoder_out"}
EXPECTED = ("fc1.weight [H, 784], fc1.bias [H], fc21.weight and fc22.weight [Z, H], fc21.bias and fc22.bias [Z], "
            "fc3.weight [H, Z], fc3.bias [H], fc4.weight [784, H], fc4.bias [784]")
# The largest state_dict this explorer accepts: MAX_PARAMETERS in float64, plus room for the
# container (a torch.save zip's records and pickle, a safetensors header).
MAX_IMPORT_BYTES = MAX_PARAMETERS * 8 + (1 << 20)
# A state_dict does not say how it was trained: the tutorial's defaults (vae/main.py: 10 epochs,
# batch 128, Adam lr 1e-3, seed 1, the plain negative ELBO) stand in, and the source says so.
TUTORIAL_TRAINING = {"epochs": 10, "batch_size": 128, "lr": 1e-3, "seed": 1, "beta": 1.0}
SAVE_IT = "save it with torch.save(model.state_dict(), 'vae.pt')"


class ImportRefused(ValueError):
    """A file that is not a usable pytorch/examples VAE; the one-line message names the file and the fix."""


@dataclass(frozen=True)
class ImportedVAE:
    """A tutorial VAE read and checked: our model holding its weights, and where they came from."""

    model: VAE  # in eval mode, on the CPU, float32
    source: dict  # the import record for config.json (store.SOURCE_KEYS and more)

    def derived_name(self, dataset: str) -> str:
        """The folder name when none is given: ``mnist-z20-h400-imported-<first 8 hex digits of the sha256>``."""
        config = self.model.config
        return f"{dataset}-z{config.latent_dim}-h{config.hidden_dim}-imported-{self.source['sha256'][:8]}"


def read_tutorial_vae(path: Path) -> ImportedVAE:
    """Read ``path`` (.pt, .pth or .safetensors) into our MLP; ``ImportRefused`` on anything else."""
    path = Path(path)
    size = checked_size(path)
    tensors = _read_pt(path) if path.suffix.lower() in (".pt", ".pth") else _read_safetensors(path)
    _check_keys(path, tensors.keys())  # first: a {"model": ..., "epoch": ...} dict is named as such
    latent, hidden = tutorial_sizes(path, _tensor_shapes(path, tensors))
    _check_values(path, tensors)
    return ImportedVAE(to_our_model(tensors, latent, hidden), _source(path, size))


def tutorial_training(dataset: str) -> TrainConfig:
    """The training config an imported checkpoint records: its data set and the tutorial's defaults."""
    return TrainConfig(dataset=dataset, **TUTORIAL_TRAINING)


def checked_size(path: Path) -> int:
    """The size of ``path`` in bytes, once it is known to be a regular file of a known kind within the bound."""
    if not path.is_file():
        problem = "is not a regular file" if path.exists() else "does not exist"
        raise ImportRefused(f"{path} {problem}: pass the .pt, .pth or .safetensors file the tutorial saved")
    if path.suffix.lower() not in SUFFIXES:
        raise ImportRefused(f"{path} is not a .pt, .pth or .safetensors file: {SAVE_IT}")
    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise ImportRefused(f"{path} is {size:,} bytes, more than the {MAX_IMPORT_BYTES:,} that the largest VAE "
                            f"this explorer takes can need: import the tutorial's model.state_dict() only")
    return size


def _read_pt(path: Path) -> dict[str, torch.Tensor]:
    """``torch.load(path, weights_only=True)`` after its zip directory is bounded; a dict of tensors or refused."""
    import warnings

    import torch

    _check_zip_directory(path)
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": the refusal below says it in one line
            warnings.simplefilter("ignore")
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        # The weights-only unpickler refuses an object it will not build with pickle.UnpicklingError (matched by
        # name: no module here imports pickle); anything else is a truncated or damaged file (torch's zip reader
        # raises RuntimeError, others vary).
        if type(error).__name__ == "UnpicklingError":
            raise ImportRefused(_unpickling_message(path, error)) from error
        raise ImportRefused(f"{path} is not a readable torch.save file ({reason(error)}): {SAVE_IT} again") from error
    if not isinstance(loaded, dict):
        raise ImportRefused(f"{path} holds a {type(loaded).__name__}, not a state_dict: "
                            "save model.state_dict(), not the model")
    return loaded


def _check_zip_directory(path: Path) -> None:
    """A torch.save zip whose records declare more than the bound is refused before torch reads them."""
    if not zipfile.is_zipfile(path):
        return  # the legacy format: a pickle stream, bounded by the file's size
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportRefused(f"{path} is not a readable torch.save file ({reason(error)}): {SAVE_IT} again") from error
    if declared > MAX_IMPORT_BYTES:
        raise ImportRefused(f"{path} declares {declared:,} bytes of records, more than the {MAX_IMPORT_BYTES:,} "
                            "that the largest VAE this explorer takes can need: import model.state_dict() only")


def _unpickling_message(path: Path, error: Exception) -> str:
    """The one line for a file that torch's weights-only reader refused."""
    import re

    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
    if found:
        return (f"{path} holds a Python object ({found.group(1)}) that could run code when loaded, so it was not "
                "loaded: save model.state_dict(), not the model")
    return f"{path} is not a file torch.save wrote (torch.load with weights_only=True cannot read it): {SAVE_IT}"


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a .safetensors file, its header's names and shapes checked before any data is read."""
    from safetensors import SafetensorError

    from .store import load_file

    try:
        header = safetensors_header(path)
    except HeaderError as error:
        raise ImportRefused(f"{path} is not a readable safetensors file ({error}): save the state_dict again "
                            "with safetensors.torch.save_file(model.state_dict(), 'vae.safetensors')") from error
    tutorial_sizes(path, {key: tensor.shape for key, tensor in header.items()})
    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as error:
        raise ImportRefused(f"{path} is not a readable safetensors file ({reason(error)}): save it again") from error


def tutorial_sizes(path: Path, shapes: dict[str, tuple[int, ...]]) -> tuple[int, int]:
    """(Z, H) read from the shapes of fc1 and fc21, once every key and shape is the tutorial's and within bounds.

    ``shapes``: name -> shape of each tensor in the file (from a safetensors header, or the loaded tensors).
    """
    _check_keys(path, shapes.keys())
    fc1, fc21 = shapes["fc1.weight"], shapes["fc21.weight"]
    if len(fc1) != 2 or fc1[1] != IMAGE_PIXELS or len(fc21) != 2:
        raise ImportRefused(f"{path}: fc1.weight has shape {fc1} and fc21.weight {fc21}; expected {EXPECTED}")
    hidden, latent = fc1[0], fc21[0]
    _check_bounds(path, latent, hidden)
    for key, wanted in expected_shapes(latent, hidden).items():
        if shapes[key] != wanted:
            raise ImportRefused(f"{path}: {key} has shape {shapes[key]} but fc1 and fc21 give H = {hidden} and "
                                f"Z = {latent}, so it needs {wanted}; expected {EXPECTED}")
    return latent, hidden


def expected_shapes(latent: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor in the tutorial VAE's state_dict for latent size Z and hidden width H."""
    sizes = {"fc1": (hidden, IMAGE_PIXELS), "fc21": (latent, hidden), "fc22": (latent, hidden),
             "fc3": (hidden, latent), "fc4": (IMAGE_PIXELS, hidden)}
    shapes = {}
    for layer, (outputs, inputs) in sizes.items():
        shapes[f"{layer}.weight"], shapes[f"{layer}.bias"] = (outputs, inputs), (outputs,)
    return shapes


def _tensor_shapes(path: Path, tensors: dict) -> dict[str, tuple[int, ...]]:
    """name -> shape of each value of a loaded state_dict; a value that is no tensor is refused."""
    import torch

    for key, value in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise ImportRefused(f"{path}: {key} is not a tensor but {type(value).__name__}: {SAVE_IT}")
    return {key: tuple(value.shape) for key, value in tensors.items()}


def _check_keys(path: Path, keys) -> None:
    """Exactly the tutorial's ten names (``keys``: a state_dict's), or one line saying which are missing or extra."""
    wanted = {f"{layer}.{kind}" for layer in LAYERS for kind in ("weight", "bias")}
    keys = set(keys)
    missing, extra = sorted(wanted - keys), sorted(map(str, keys - wanted))
    if missing or extra:
        more = f" and {len(extra) - 5:,} more" if len(extra) > 5 else ""
        found = "; ".join([f"missing {', '.join(missing)}"] * bool(missing)
                          + [f"unexpected {', '.join(extra[:5])}{more}"] * bool(extra))
        raise ImportRefused(f"{path} is not the pytorch/examples VAE's state_dict ({found}): expected {EXPECTED}")


def _check_bounds(path: Path, latent: int, hidden: int) -> None:
    """Z, H and the parameter count within ``vae_core.config``'s bounds, before any value is used."""
    for what, value, most in (("latent size Z", latent, MAX_LATENT_DIM), ("hidden width H", hidden, MAX_HIDDEN_DIM)):
        if not 1 <= value <= most:
            raise ImportRefused(f"{path}: its {what} is {value:,}, outside the 1 to {most:,} this explorer explores: "
                                "import a smaller VAE")
    count = mlp_parameters(latent, hidden)
    if count > MAX_PARAMETERS:
        raise ImportRefused(f"{path}: its VAE has {count:,} parameters, more than the {MAX_PARAMETERS:,} this "
                            "explorer explores: import a smaller VAE")


def _check_values(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Every tensor (shapes checked already) real, floating-point and finite."""
    import torch

    for key, tensor in tensors.items():
        if not tensor.is_floating_point():
            raise ImportRefused(f"{path}: {key} is {tensor.dtype}, not a floating-point tensor: {SAVE_IT}")
        if not torch.isfinite(tensor).all():
            raise ImportRefused(f"{path}: {key} holds NaN or inf values: the run diverged; import a state_dict "
                                "saved before that")


def to_our_model(tensors: dict[str, torch.Tensor], latent: int, hidden: int) -> VAE:
    """Our MLP VAE (latent Z, hidden H) holding the tutorial's weights, as float32, in eval mode.

    tensors: the tutorial's state_dict, already checked to have ``expected_shapes(latent, hidden)``.
    """
    import torch

    from .models import VAE

    model = VAE(ModelConfig(latent_dim=latent, hidden_dim=hidden))
    ours = {f"{LAYERS[key.split('.')[0]]}.{key.split('.')[1]}": tensor.detach().to(torch.float32).contiguous()
            for key, tensor in tensors.items()}
    model.load_state_dict(ours, strict=True)
    return model.eval()


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of the file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _source(path: Path, size: int) -> dict:
    """The import record that config.json keeps (``store.SOURCE_KEYS`` and the file's size)."""
    return {"kind": "import", "format": FORMAT, "file": path.name, "sha256": sha256_of(path), "bytes": size,
            "imported": datetime.now(UTC).isoformat(timespec="seconds"),
            "train_config": "assumed: the tutorial's defaults; a state_dict does not record how it was trained"}
