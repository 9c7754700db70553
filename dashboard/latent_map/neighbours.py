"""A clicked point's nearest neighbours in the full latent space, their thumbnails, and the selection as CSV.

Neighbours are found by the posterior means (the cached test means, ``projections["mu"]`` [N, D],
stored as float16 and compared in float32), exactly: brute force over every test digit is about a
millisecond for 10,000 of them, so no index is built. The map's 2-D coordinates play no part: two
digits close on a t-SNE map need not be close in the latent space, and this list says which are.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from dashboard.shell import cache
from dashboard.shell.cache import per_checkpoint

TILE_FACTOR = 2  # a thumbnail: 28 px -> 56 px
COLUMNS = 3  # thumbnails per row: 3 x 70 pixels fit the column beside the map unscaled
CELL_MARGIN = 14  # pixels beside each thumbnail: room for its labels
LABEL_SIZE = 12  # pixels of the two lines under each thumbnail


def nearest(mu: np.ndarray, row: int, k: int) -> tuple[list[int], list[float]]:
    """The ``k`` test rows nearest ``row`` by Euclidean distance between means [N, D] (itself left out), nearest
    first (equal distances by row), and their distances."""
    means = np.asarray(mu, dtype=np.float32)
    distance = np.sqrt(np.square(means - means[row]).sum(axis=1))
    distance[row] = np.inf
    order = np.lexsort((np.arange(len(distance)), distance))[:min(k, len(distance) - 1)]
    return [int(i) for i in order], [float(d) for d in distance[order]]


@per_checkpoint()
def neighbours_for(checkpoint, row: int, k: int) -> tuple[list[int], list[float]]:
    """``nearest`` on the checkpoint's cached test means, per (checkpoint, row, k)."""
    return nearest(cache.projections_for(checkpoint)["mu"], row, k)


@per_checkpoint(reads_data=True)
def neighbour_sheet(checkpoint, row: int, k: int, names: tuple[str, ...]) -> tuple[bytes, bool]:
    """(PNG of the neighbours of ``row``, whether they are the test images): each thumbnail with its index and class
    under it, then its distance. Without the test images (or when they are not the ones the means were computed
    on), the thumbnails are the decoded means."""
    from vae_core import explore

    rows, distances = neighbours_for(checkpoint, row, k)
    arrays = cache.projections_for(checkpoint)
    split, _ = cache.test_split(checkpoint.train_config.dataset)
    originals = split is not None and len(split.labels) == len(arrays["mu"])
    if originals:
        images = split.images[rows].reshape(-1, 28, 28).numpy()
    else:
        import torch

        means = torch.as_tensor(np.asarray(arrays["mu"][rows], dtype=np.float32))
        images = explore.decode(cache.model_for(checkpoint), means)
    lines = [(f"#{r} · {names[int(arrays['labels'][r])]}", f"{d:.3f}") for r, d in zip(rows, distances, strict=True)]
    return tiles_png(images, lines), originals


def tiles_png(images: np.ndarray, lines: list[tuple[str, str]], columns: int = COLUMNS) -> bytes:
    """Digits [K, 28, 28] in [0, 1], ``columns`` per row, each with two short lines of text under it."""
    from PIL import Image, ImageDraw

    from vae_core import explore

    side, pad, line = 28 * TILE_FACTOR, 4, LABEL_SIZE + 4
    cell_w, cell_h = side + CELL_MARGIN, side + 2 * line + pad
    count = len(images)
    rows = -(-count // columns)
    sheet = Image.new("RGB", (min(columns, count) * cell_w, rows * cell_h), (255, 255, 255))
    draw, font = ImageDraw.Draw(sheet), explore.label_font(LABEL_SIZE)
    for index, (image, texts) in enumerate(zip(images, lines, strict=True)):
        left, top = (index % columns) * cell_w, (index // columns) * cell_h
        pixels = explore.upscale(explore.to_uint8(image), TILE_FACTOR)
        sheet.paste(Image.fromarray(pixels).convert("RGB"), (left + (cell_w - side) // 2, top))
        for number, text in enumerate(texts):
            while draw.textlength(text, font=font) > cell_w - 2 and len(text) > 4:
                text = text[:-2] + "…"
            draw.text((left + cell_w / 2, top + side + 2 + number * line), text, fill=(49, 51, 63) if number == 0
                      else (89, 89, 89), font=font, anchor="mt")
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


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
