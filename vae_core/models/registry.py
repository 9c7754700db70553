"""The architectures' classes: the built-ins, and the plugins that ``vae_core.architectures`` names.

A plugin is imported the first time its class is needed, once per process. Its class is an
``nn.Module`` built as ``cls(config: ModelConfig)`` with, for images of ``config.input_dim`` =
C x S x S values (``config.channels``, ``config.side``; 784 for MNIST),

    encode(x [B, input_dim] in [0, 1]) -> (mu [B, D], logvar [B, D])
    decode(z [B, D]) -> logits [B, input_dim]

Subclassing ``VariationalAutoencoder`` gives it the rest (forward, reparameterize, decode_images);
a class that only has encode and decode gets them here. A plugin that fails to import or breaks the
contract is one line (``problems``, or the ``ConfigError`` of ``model_class``) and is skipped: the
built-ins and the other plugins keep working.

``expected_shapes`` builds a plugin on torch's meta device (no memory, no weights) to learn the
names and shapes of its state_dict, so the store checks a checkpoint's file against them before
reading any weights, as it does for the built-ins with ``vae_core.shapes``.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn

from .. import architectures
from ..config import MAX_PARAMETERS, ConfigError, ModelConfig
from .base import VariationalAutoencoder
from .conv import ConvVAE
from .mlp import VAE

BUILTIN_MODELS: dict[str, type[VariationalAutoencoder]] = {"mlp": VAE, "conv": ConvVAE}
CHECK_BATCH = 2  # images in the meta-device run that checks a plugin's encode and decode shapes

_loaded: dict[str, type[VariationalAutoencoder] | str] = {}  # plugin name -> class, or why it was skipped


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _adapted(cls: type[nn.Module]) -> type[VariationalAutoencoder]:
    """``cls`` with VariationalAutoencoder's forward, reparameterize, decode_images and ``config``."""
    if issubclass(cls, VariationalAutoencoder):
        return cls

    class Adapted(cls):  # type: ignore[misc, valid-type]
        forward = VariationalAutoencoder.forward
        reparameterize = staticmethod(VariationalAutoencoder.reparameterize)
        decode_images = VariationalAutoencoder.decode_images

        def __init__(self, config: ModelConfig):
            super().__init__(config)
            self.config = config

    Adapted.__name__ = Adapted.__qualname__ = cls.__name__
    return Adapted


def _contract_problem(cls: object) -> str | None:
    """Why the loaded object cannot be an architecture, or None."""
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        return f"{cls!r} is not an nn.Module class"
    for method in ("encode", "decode"):
        own = getattr(cls, method, None)
        if not callable(own) or own is getattr(VariationalAutoencoder, method):
            return f"{cls.__name__} has no {method} method of its own (see VariationalAutoencoder)"
    return None


def _load(name: str) -> type[VariationalAutoencoder] | str:
    entry_point = architectures.entry_points()[name]
    try:
        cls = entry_point.load()
    except Exception as error:  # a plugin's import may raise anything: it is reported, never a crash
        return f"architecture plugin {architectures.describe(entry_point)} skipped: {_one_line(error)}"
    problem = _contract_problem(cls)
    if problem:
        return f"architecture plugin {architectures.describe(entry_point)} skipped: {problem}"
    return _adapted(cls)


def _plugin(name: str) -> type[VariationalAutoencoder] | str:
    if name not in _loaded:
        _loaded[name] = _load(name)
    return _loaded[name]


def model_class(name: str) -> type[VariationalAutoencoder]:
    """The class of architecture ``name``; ``ConfigError`` (one line) for an unknown or broken one."""
    if name in BUILTIN_MODELS:
        return BUILTIN_MODELS[name]
    if name not in architectures.entry_points():
        choices = architectures.spelled(architectures.names())
        raise ConfigError(f"unknown architecture {name!r}: choose --arch {choices}")
    found = _plugin(name)
    if isinstance(found, str):
        raise ConfigError(found)
    return found


def available() -> dict[str, type[VariationalAutoencoder]]:
    """name -> class of every architecture that loads (imports every plugin once)."""
    found = {name: _plugin(name) for name in architectures.entry_points()}
    return {**BUILTIN_MODELS, **{name: cls for name, cls in found.items() if not isinstance(cls, str)}}


def problems() -> list[str]:
    """One line per plugin skipped: for its name, its import, or its class (imports every plugin once)."""
    found = [_plugin(name) for name in architectures.entry_points()]
    return architectures.naming_problems() + [reason for reason in found if isinstance(reason, str)]


def build_model(config: ModelConfig) -> VariationalAutoencoder:
    """A freshly initialised model of ``config.architecture`` (weights from torch's current seed)."""
    return model_class(config.architecture)(config)


@functools.lru_cache(maxsize=64)
def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor in a plugin's state_dict, from a model built on the meta device.

    Also runs encode and decode there on [2, input_dim] and [2, D] (shapes only, no arithmetic) and bounds the
    parameter count as ``ModelConfig`` bounds the MLP's; ``ConfigError`` in one line otherwise.
    """
    cls = model_class(config.architecture)
    try:
        with torch.device("meta"):
            model = cls(config)
            mu, logvar = model.encode(torch.empty(CHECK_BATCH, config.input_dim))
            logits = model.decode(torch.empty(CHECK_BATCH, config.latent_dim))
    except Exception as error:  # the plugin's own code: any failure is its one line
        raise ConfigError(f"architecture {config.architecture!r} cannot build a model of latent size "
                          f"{config.latent_dim}: {_one_line(error)}") from error
    _check_outputs(config, mu, logvar, logits)
    shapes = {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}
    count = sum(math.prod(shape) for shape in shapes.values())
    if count > MAX_PARAMETERS:
        raise ConfigError(f"this {config.architecture} VAE would have {count:,} parameters, more than the "
                          f"{MAX_PARAMETERS:,} this explorer trains: pass a smaller --hidden-dim or --latent-dims")
    return shapes


def _check_outputs(config: ModelConfig, mu, logvar, logits) -> None:
    latent = (CHECK_BATCH, config.latent_dim)
    shapes = [tuple(getattr(t, "shape", ())) for t in (mu, logvar, logits)]
    if shapes != [latent, latent, (CHECK_BATCH, config.input_dim)]:
        raise ConfigError(f"architecture {config.architecture!r} breaks the contract: encode must give mu and "
                          f"logvar {list(latent)} and decode logits {[CHECK_BATCH, config.input_dim]} for a batch of "
                          f"{CHECK_BATCH}, got {', '.join(str(list(s)) for s in shapes)}")


def refresh() -> None:
    """Forget the discovered and imported plugins (a package was installed, or a test put one on sys.path)."""
    architectures.refresh()
    _loaded.clear()
    expected_shapes.cache_clear()
