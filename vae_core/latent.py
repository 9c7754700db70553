"""Latent maths beyond one point: traversals per dimension and arithmetic with class means.

Pure torch and numpy, no UI: the dashboard pages and ``vae-explorer export`` both call these
and decode what they return. Latent tensors are float32 on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .evaluate import ACTIVE_THRESHOLD
from .explore import dims_by_information, interpolate

TRAVERSAL_RADIUS = 3.0  # columns span -3 to +3 prior standard deviations around the start point
CLASSES = 10


@dataclass(frozen=True)
class DimensionRanking:
    """Latent dimensions most informative first, and which of them are collapsed (unused)."""

    order: list[int]  # every dimension, highest score first
    scores: np.ndarray  # [D] what the order is by (nats of KL, or variance of the means)
    collapsed: frozenset[int]  # dimensions whose posterior means hardly vary over the test set
    measure: str  # what ``scores`` are, in words


def rank_dimensions(mu: np.ndarray | torch.Tensor, kl_per_dim: np.ndarray | torch.Tensor | None = None,
                    threshold: float = ACTIVE_THRESHOLD) -> DimensionRanking:
    """mu [N, D] test-set posterior means (and optionally their mean KL per dimension [D], nats) -> ranking.

    Ranked by KL per dimension when given, else by the variance of the means; either way a
    dimension is collapsed when the variance of its means is at most ``threshold`` (Burda et al. 2016).
    """
    means = np.asarray(mu, dtype=np.float64)
    variance = means.var(axis=0)
    if kl_per_dim is not None:
        scores, measure = np.asarray(kl_per_dim, dtype=np.float64), "average KL per dimension (nats)"
    else:
        scores, measure = variance, "variance of the test-set means"
    collapsed = frozenset(int(d) for d in np.flatnonzero(variance <= threshold))
    return DimensionRanking(dims_by_information(scores), scores, collapsed, measure)


def traversal_offsets(columns: int, radius: float = TRAVERSAL_RADIUS) -> np.ndarray:
    """[columns] evenly spaced offsets from -radius to +radius; an odd count puts 0 in the middle."""
    if columns < 2:
        raise ValueError(f"a traversal needs at least 2 columns, got {columns}")
    return np.linspace(-radius, radius, columns)


def traversal_latents(start: torch.Tensor, dims: list[int], offsets: np.ndarray) -> torch.Tensor:
    """start [D], R dims, offsets [C] -> [R * C, D] row-major: row r moves only ``dims[r]`` to start + offset.

    Every other dimension stays at the start point, so each row shows what one dimension does there.
    """
    base = start.to(torch.float32).reshape(1, -1)
    steps = torch.as_tensor(np.asarray(offsets), dtype=torch.float32)
    rows = []
    for dim in dims:
        row = base.repeat(len(steps), 1)
        row[:, dim] += steps
        rows.append(row)
    return torch.cat(rows) if rows else base[:0]


def class_means(mu: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor,
                classes: int = CLASSES) -> torch.Tensor:
    """mu [N, D], labels [N] -> [classes, D]: the mean posterior mean of each class (NaN for an absent class)."""
    means = torch.as_tensor(np.asarray(mu, dtype=np.float32))
    labels = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    result = torch.full((classes, means.shape[1]), float("nan"))
    for k in range(classes):
        chosen = labels == k
        if chosen.any():
            result[k] = means[chosen].mean(dim=0)
    return result


def morph(means: torch.Tensor, first: int, last: int, steps: int) -> torch.Tensor:
    """means [classes, D] -> [steps, D] on the line from class ``first``'s mean to class ``last``'s, both included."""
    return interpolate(means[first], means[last], steps)


def add_direction(z: torch.Tensor, means: torch.Tensor, first: int, last: int, steps: int,
                  strength: float = 1.0) -> torch.Tensor:
    """z [D] -> [steps, D]: z + s * (mean[last] - mean[first]) for s from 0 to ``strength``.

    The first row is z itself; with strength 1 the last row has moved z exactly as far as the
    class means are apart ("a 3 written like this 7", when first is 7 and last is 3).
    """
    direction = (means[last] - means[first]).to(torch.float32)
    return interpolate(z.to(torch.float32), z.to(torch.float32) + strength * direction, steps)
