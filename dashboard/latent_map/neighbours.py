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
from vae_core import train_points


def nearest(mu: np.ndarray, row: int, k: int) -> tuple[list[int], list[float]]:
    """The ``k`` test rows nearest ``row`` by Euclidean distance between means [N, D] (itself left out), nearest
    first (equal distances by row), and their distances."""
    return knn.nearest(mu, mu[row], k, leave_out=row)


@per_checkpoint()
def neighbours_for(checkpoint, row: int, k: int, every: bool = False) -> tuple[list[int], list[float]]:
    """``nearest`` on the checkpoint's cached means (the test digits', or ``every`` digit's), per (row, k)."""
    return nearest(cache.map_arrays_for(checkpoint, every)["mu"], row, k)


@per_checkpoint(reads_data=True)
def neighbour_sheet(checkpoint, row: int, k: int, names: tuple[str, ...], every: bool = False) -> tuple[bytes, bool]:
    """(PNG of the neighbours of ``row``, whether they are the original images): each thumbnail with its index and
    class under it, then its distance. Without the images (or when they are not the ones the means were computed
    on), the thumbnails are the decoded means."""
    rows, distances = neighbours_for(checkpoint, row, k, every)
    arrays = cache.map_arrays_for(checkpoint, every)
    split, _ = cache.digits_split(checkpoint.train_config.dataset, every)
    images, originals = knn.thumbnails(cache.model_for(checkpoint),
                                       split.images if points.split_matches(split, arrays) else None,
                                       arrays["mu"], rows)
    lines = knn.tile_lines(rows, distances, arrays["labels"], names, train_points.train_from(arrays))
    return knn.tiles_png(images, lines), originals



def selection_csv(rows: list[int], labels: np.ndarray, names: tuple[str, ...], map_rows: np.ndarray,
                  x: np.ndarray, y: np.ndarray, mu: np.ndarray, train_from: int | None = None) -> bytes:
    """One line per selected row: its split and index there, class (and its name), the map's x and y, and the mean
    mu_0..mu_{D-1}.

    ``map_rows``, ``x``, ``y``: the map's points (a row's coordinates are where the map draws it); rows from
    ``train_from`` on are training digits.
    """
    where = {int(r): i for i, r in enumerate(map_rows)}
    means = np.asarray(mu, dtype=np.float32)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["split", "index", "class", "class_name", "x", "y", *(f"mu_{d}" for d in range(means.shape[1]))])
    for row in rows:
        at, label = where[int(row)], int(labels[row])
        split, index = ("train", int(row) - train_from) if train_from is not None and row >= train_from \
            else ("test", int(row))
        writer.writerow([split, index, label, names[label], *(_number(v) for v in (x[at], y[at], *means[row]))])
    return buffer.getvalue().encode()


def _number(value) -> str:
    """A float32 value in its shortest exact decimal form (a float16 mean reads back as itself)."""
    return np.format_float_positional(np.float32(value), unique=True, trim="-")
