"""The parameter shapes of each architecture: the built-ins' computed without torch.

``store.scan`` checks every checkpoint's weights against these, so listing the built-ins' checkpoints
(`vae-explorer list`) reads safetensors headers and numpy arrays and never imports torch. A plugin's
shapes come from its class, built on torch's meta device (``vae_core.models.registry.expected_shapes``).
``tests/test_families.py`` holds them equal to the models' own ``state_dict``.
"""

from __future__ import annotations

import math

from .architectures import BUILTIN
from .config import IMAGE_PIXELS, ModelConfig

CONV_CHANNELS = (32, 64)
CONV_FEATURES = CONV_CHANNELS[1] * 7 * 7  # two stride-2 steps: 28 -> 14 -> 7


def conv_features(side: int) -> int:
    """Values between the conv VAE's convolutions and its linear layers: 64 x (side / 4)^2 (3136 at 28)."""
    return CONV_CHANNELS[1] * (side // 4) ** 2


def image_shape_of(values: int) -> tuple[int, int]:
    """(channels, side) of a flattened square image of ``values`` values: S x S grey or 3 x S x S RGB. Never both,
    since 3 x S^2 is never a square; ``ValueError`` for a count that is neither."""
    side = math.isqrt(values)
    if side * side == values:
        return 1, side
    side = math.isqrt(values // 3)
    if values % 3 == 0 and 3 * side * side == values:
        return 3, side
    raise ValueError(f"{values} values are neither S x S grey nor 3 x S x S RGB pixels")


def as_pictures(flat):
    """Flattened images [N, values] -> pictures ([N, S, S] or [N, S, S, 3]), their shape read from ``values``."""
    return pictures(flat, *image_shape_of(flat.shape[-1]))


def pictures(flat, channels: int, side: int):
    """Flattened images [N, channels x side x side] (channels first, a tensor or an array) -> pictures to show:
    [N, side, side] grey, or [N, side, side, 3] RGB (channels last, as PIL and the browser take them)."""
    folded = flat.reshape(-1, channels, side, side)
    if channels == 1:
        return folded[:, 0]
    return folded.movedim(1, -1) if hasattr(folded, "movedim") else folded.transpose(0, 2, 3, 1)


def _linear(name: str, inputs: int, outputs: int) -> dict[str, tuple[int, ...]]:
    return {f"{name}.weight": (outputs, inputs), f"{name}.bias": (outputs,)}


def _conv(name: str, inputs: int, outputs: int, transposed: bool = False) -> dict[str, tuple[int, ...]]:
    weight = (inputs, outputs, 4, 4) if transposed else (outputs, inputs, 4, 4)
    return {f"{name}.weight": weight, f"{name}.bias": (outputs,)}


def parameter_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor in the state_dict of ``build_model(config)``.

    A plugin's are read from its class (importing torch and the plugin); ``ConfigError`` when it cannot be used.
    """
    if config.architecture not in BUILTIN:
        from .models.registry import expected_shapes

        return dict(expected_shapes(config))
    d, h = config.latent_dim, config.hidden_dim
    if config.architecture == "conv":
        first, second = CONV_CHANNELS
        features, c = conv_features(config.side), config.channels
        return {**_conv("encoder_conv1", c, first), **_conv("encoder_conv2", first, second),
                **_linear("encoder_mu", features, d), **_linear("encoder_logvar", features, d),
                **_linear("decoder_in", d, features),
                **_conv("decoder_deconv1", second, first, transposed=True),
                **_conv("decoder_deconv2", first, c, transposed=True)}
    return {**_linear("encoder_hidden", config.input_dim or IMAGE_PIXELS, h), **_linear("encoder_mu", h, d),
            **_linear("encoder_logvar", h, d), **_linear("decoder_hidden", d, h),
            **_linear("decoder_out", h, config.input_dim)}
