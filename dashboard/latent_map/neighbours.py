"""A clicked point's nearest neighbours in the full latent space, their thumbnails, and the selection as CSV.

The search and the thumbnails are ``vae_core.neighbours``'s (the Your digit page finds a drawing's
neighbours with the same code); here they are cached per checkpoint, row and k.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from dashboard.shell import cache, points
from dashboard.shell.cache import per_checkpoint
from vae_core import neighbours as knn


def nearest(mu: np.ndarray, row: int, k: int) -> tuple[list[int], list[float]]:
    """The ``k`` test rows nearest ``row`` by Euclidean distance between means [N, D] (itself left out), nearest
    first (equal distances by row), and their distances."""
    return knn.nearest(mu, mu[row], k, leave_out=row)


@per_checkpoint()
def neighbours_for(checkpoint, row: int, k: int) -> tuple[list[int], list[float]]:
    """``nearest`` on the checkpoint's cached test means, per (checkpoint, row, k)."""
    return nearest(cache.projections_for(checkpoint)["mu"], row, k)


@per_checkpoint(reads_data=True)
def neighbour_sheet(checkpoint, row: int, k: int, names: tuple[str, ...]) -> tuple[bytes, bool]:
    """(PNG of the neighbours of ``row``, whether they are the test images): each thumbnail with its index and class
    under it, then its distance. Without the test images (or when they are not the ones the means were computed
    on), the thumbnails are the decoded means."""
    rows, distances = neighbours_for(checkpoint, row, k)
    arrays = cache.projections_for(checkpoint)
    split, _ = cache.test_split(checkpoint.train_config.dataset)
    images, originals = knn.thumbnails(cache.model_for(checkpoint),
                                       split.images if points.split_matches(split, arrays) else None,
                                       arrays["mu"], rows)
    return knn.tiles_png(images, knn.tile_lines(rows, distances, arrays["labels"], names)), originals


def selection_csv(rows: list[int], labels: np.ndarray, names: tuple[str, ...], map_rows: np.ndarray,
                  x: np.ndarray, y: np.ndarray, mu: np.ndarray) -> bytes:
    """One line per selected test row: index, class (and its name), the map's x and y, and the mean mu_0..mu_{D-1}.

    ``map_rows``, ``x``, ``y``: the map's points (a row's coordinates are where the map draws it).
    """
    where = {int(r): i for i, r in enumerate(map_rows)}
    means = np.asarray(mu, dtype=np.float32)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "class", "class_name", "x", "y", *(f"mu_{d}" for d in range(means.shape[1]))])
    for row in rows:
        at, label = where[int(row)], int(labels[row])
        writer.writerow([int(row), label, names[label], *(_number(v) for v in (x[at], y[at], *means[row]))])
    return buffer.getvalue().encode()


def _number(value) -> str:
    """A float32 value in its shortest exact decimal form (a float16 mean reads back as itself)."""
    return np.format_float_positional(np.float32(value), unique=True, trim="-")
