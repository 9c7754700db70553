"""Small pure helpers for looking inside a trained VAE: latent points, grids and images.

Everything here is independent of any UI: the dashboard calls these functions and only
lays out what they return. Latent tensors are float32 on CPU; images are numpy arrays.
Pictures are [N, S, S] grey or [N, S, S, 3] RGB (channels last, as ``decode_images`` gives them and
PIL takes them): [N, 28, 28] for MNIST; ``as_pictures`` folds any other layout the project uses into them.
"""

from __future__ import annotations

import io
from statistics import NormalDist

import numpy as np
import torch

from .losses import gaussian_kl_per_dim
from .models import VariationalAutoencoder
from .shapes import as_pictures as flat_pictures
from .shapes import pictures

IMAGE_SIDE = 28  # MNIST's; a model's own is ``model.config.side``


def picture_shape(channels: int, side: int) -> tuple[int, ...]:
    """The shape of one picture: (side, side) grey, (side, side, 3) RGB."""
    return (side, side) if channels == 1 else (side, side, channels)


def as_pictures(images):
    """Images (numpy or torch) in any layout used here -> pictures [N, S, S] grey or [N, S, S, 3] RGB.

    [N, C x S x S] flattened channels first (a ``data.Split``'s images), [N, C, S, S], or pictures already.
    """
    shape = tuple(images.shape)
    if len(shape) == 2:  # the pixel count says the shape (784: 28 x 28 grey)
        return flat_pictures(images)
    if len(shape) == 3 and shape[1] == shape[2]:
        return images
    if len(shape) == 4 and shape[1] == shape[2] and shape[3] == 3:
        return images
    if len(shape) == 4 and shape[1] in (1, 3) and shape[2] == shape[3]:
        return pictures(images, shape[1], shape[2])
    raise ValueError(f"expected images [N, S, S], [N, S, S, 3], [N, C, S, S] or [N, C x S x S], got {list(shape)}")


def prior_samples(latent_dim: int, count: int, seed: int, temperature: float = 1.0) -> torch.Tensor:
    """``count`` draws z ~ N(0, temperature^2 I): [count, latent_dim] float32 on CPU.

    The same seed gives the same draws on every device, and a prefix of a larger draw equals a
    smaller draw (numpy fills row by row), so the dashboard's first samples are the ones
    ``vae-explorer evaluate`` scored.
    """
    if count < 1 or latent_dim < 1:
        raise ValueError(f"need count >= 1 and latent_dim >= 1, got {count} and {latent_dim}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}: try 1.0")
    rng = np.random.default_rng(int(seed))
    return torch.from_numpy(rng.standard_normal((count, latent_dim), dtype=np.float32)) * float(temperature)


def normal_quantiles(steps: int, low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """[steps] values of N(0, 1) at evenly spaced probabilities from ``low`` to ``high``.

    Spacing a grid by prior quantiles (as Kingma and Welling's manifold figures do) puts
    as many grid points where the prior has mass as a linear grid puts in its tails.
    """
    if steps < 2:
        raise ValueError(f"a grid needs at least 2 steps, got {steps}")
    probabilities = np.linspace(low, high, steps)
    return np.array([NormalDist().inv_cdf(float(p)) for p in probabilities])


def manifold_latents(base: torch.Tensor, dims: tuple[int, int], values: np.ndarray) -> torch.Tensor:
    """A grid over two latent dimensions, all others held at ``base`` [D].

    Returns [n * n, D] in row-major order for an n x n image grid: columns sweep
    ``dims[0]`` from low to high, rows sweep ``dims[1]`` from high (top) to low (bottom),
    so the grid reads like a plot with the y axis pointing up.
    """
    first, second = dims
    if first == second:
        raise ValueError(f"pick two different dimensions, got {first} twice")
    grid = torch.as_tensor(np.asarray(values), dtype=torch.float32)
    n = len(grid)
    z = base.to(torch.float32).reshape(1, -1).repeat(n * n, 1)
    z[:, first] = grid.repeat(n)
    z[:, second] = grid.flip(0).repeat_interleave(n)
    return z


def interpolate(start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
    """[steps, D] points on the straight line from ``start`` [D] to ``end`` [D], both included."""
    if steps < 2:
        raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
    weights = torch.linspace(0.0, 1.0, steps).reshape(-1, 1)
    return (1 - weights) * start.to(torch.float32).reshape(1, -1) + weights * end.to(torch.float32).reshape(1, -1)


def mean_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """mu, logvar [N, D] -> [D]: KL(q(z|x) || N(0, 1)) per dimension averaged over the N images."""
    return gaussian_kl_per_dim(mu.to(torch.float32), logvar.to(torch.float32)).mean(dim=0)


def mean_part_of_kl(mu: np.ndarray) -> np.ndarray:
    """mu [N, D] -> [D]: 0.5 * E[mu_d^2], the part of each dimension's KL that the means carry.

    Used when only posterior means are cached: unused dimensions have means near zero,
    so this ranks dimensions almost exactly as the full KL does.
    """
    return 0.5 * np.mean(np.square(np.asarray(mu, dtype=np.float64)), axis=0)


def dims_by_information(scores: np.ndarray | torch.Tensor) -> list[int]:
    """Dimension indices sorted by score, largest first (ties keep the lower index first)."""
    values = np.asarray(scores, dtype=np.float64)
    return [int(i) for i in np.argsort(-values, kind="stable")]


@torch.no_grad()
def decode(model: VariationalAutoencoder, z: torch.Tensor) -> np.ndarray:
    """z [B, D] -> mean images float32 in [0, 1]: [B, S, S] grey (MNIST: [B, 28, 28]) or [B, S, S, 3] RGB."""
    return model.decode_images(z.to(torch.float32)).cpu().numpy()


@torch.no_grad()
def reconstruct(model: VariationalAutoencoder, images: torch.Tensor) -> np.ndarray:
    """images [B, C x S x S] -> decoded posterior means as pictures (``decode``): the deterministic reconstruction."""
    mu, _ = model.encode(images.to(torch.float32))
    return decode(model, mu)


def tile(images: np.ndarray, columns: int, pad: int = 1, pad_value: float = 0.35) -> np.ndarray:
    """images in [0, 1] (``as_pictures``: [N, S, S], [N, S, S, 3], flattened) -> one uint8 image, ``columns`` per row:
    [H, W] grey, [H, W, 3] RGB.

    A thin grey border separates neighbours; empty cells of the last row stay grey.
    """
    images = as_pictures(np.asarray(images, dtype=np.float32))
    count, side = len(images), images.shape[1]
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    cell = side + pad
    canvas = np.full((rows * cell + pad, columns * cell + pad, *images.shape[3:]), pad_value, dtype=np.float32)
    for index, image in enumerate(images):
        top, left = pad + (index // columns) * cell, pad + (index % columns) * cell
        canvas[top:top + side, left:left + side] = image
    return to_uint8(canvas)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Grey levels in [0, 1] (any shape) -> uint8 in [0, 255], rounded."""
    return np.clip(np.rint(np.asarray(image, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """[H, W] (or [H, W, 3]) -> [H * factor, W * factor] (, 3) by nearest neighbour, so pixels stay crisp squares."""
    if factor < 1:
        raise ValueError(f"upscale factor must be >= 1, got {factor}")
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def png_bytes(image: np.ndarray, factor: int = 1) -> bytes:
    """A grey image [H, W] or an RGB one [H, W, 3] (uint8, or float in [0, 1]) -> PNG bytes, upscaled by ``factor``."""
    from PIL import Image

    pixels = image if image.dtype == np.uint8 else to_uint8(image)
    buffer = io.BytesIO()
    Image.fromarray(upscale(pixels, factor)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def label_font(size: int):
    """Pillow's default font at ``size`` pixels, for the labels drawn into figures."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()
