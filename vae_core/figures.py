"""The figures of traversals and class arithmetic, as decoded digits with their labels.

Each function decodes what ``vae_core.latent`` computes and returns numpy images in [0, 1]
plus the text that goes with them; ``vae_core.exports`` turns them into PNG or GIF bytes.
The dashboard pages and ``vae-explorer export`` draw the same figures from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import latent
from .explore import decode, picture_shape
from .exports import ExportError


@dataclass(frozen=True)
class Traversal:
    """One row per latent dimension, one column per offset from the start point."""

    images: np.ndarray  # [R, C, S, S] (RGB: [R, C, S, S, 3]) in [0, 1]; MNIST's S is 28
    dims: list[int]  # the dimension of each row, most informative first
    offsets: np.ndarray  # [C] added to the start point's value of the row's dimension
    row_labels: list[str]  # "z[3]  1.52" (the score), "z[7]  collapsed"
    marked: frozenset[int]  # rows (not dims) whose dimension is collapsed

    @property
    def column_labels(self) -> list[str]:
        return [f"{round(float(v), 2):+g}" if abs(v) > 1e-9 else "start" for v in self.offsets]


def traversal(model, start: torch.Tensor, ranking: latent.DimensionRanking, rows: int | None = None,
              columns: int = 9, radius: float = latent.TRAVERSAL_RADIUS) -> Traversal:
    """Decode the traversal of the ``rows`` most informative dimensions (all by default) around start [D]."""
    dims = ranking.order[:rows] if rows else list(ranking.order)
    offsets = latent.traversal_offsets(columns, radius)
    images = decode(model, latent.traversal_latents(start, dims, offsets))
    images = images.reshape(len(dims), len(offsets), *images.shape[1:])
    marked = frozenset(r for r, d in enumerate(dims) if d in ranking.collapsed)
    labels = [f"z[{d}]  collapsed" if r in marked else f"z[{d}]  {ranking.scores[d]:.2f}" for r, d in enumerate(dims)]
    return Traversal(images, dims, offsets, labels, marked)


def class_mean_images(model, means: torch.Tensor) -> np.ndarray:
    """means [K, D] -> the decoded class means as pictures [K, S, S] (RGB [K, S, S, 3]); a class absent from the
    data stays blank."""
    present = ~torch.isnan(means).any(dim=1)
    images = np.zeros((len(means), *picture_shape(model.config.channels, model.config.side)), dtype=np.float32)
    if present.any():
        images[present.numpy()] = decode(model, means[present])
    return images


def _check_classes(means: torch.Tensor, *classes: int) -> None:
    for k in classes:
        if not 0 <= k < len(means) or torch.isnan(means[k]).any():
            raise ExportError(f"class {k} has no test digits to average: pick one of 0 to {len(means) - 1}")


def morph_images(model, means: torch.Tensor, first: int, last: int, steps: int) -> np.ndarray:
    """[steps, S, S] (RGB [steps, S, S, 3]): decoded from class ``first``'s mean to class ``last``'s."""
    _check_classes(means, first, last)
    return decode(model, latent.morph(means, first, last, steps))


def direction_images(model, z: torch.Tensor, means: torch.Tensor, first: int, last: int, steps: int,
                     strength: float = 1.0) -> np.ndarray:
    """[steps, S, S] (RGB [steps, S, S, 3]): z [D] decoded as the direction from class ``first`` to ``last`` is
    added to it."""
    _check_classes(means, first, last)
    return decode(model, latent.add_direction(z, means, first, last, steps, strength))


def strength_labels(steps: int, strength: float) -> list[str]:
    """Column labels of a direction strip: how much of the class direction each digit has."""
    return [f"+{s:.2g}" if s else "digit" for s in np.linspace(0.0, strength, steps)]


def morph_labels(steps: int, first: int, last: int, names: tuple[str, ...] | None = None) -> list[str]:
    """Column labels of a morph strip: the two classes at its ends."""
    names = names or tuple(str(k) for k in range(10))
    return [names[first]] + [""] * (steps - 2) + [names[last]]
