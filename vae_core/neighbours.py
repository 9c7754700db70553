"""Nearest test digits in the full latent space, and a sheet of their thumbnails.

Neighbours are found by the posterior means (a checkpoint's cached test means, ``projections["mu"]``
[N, D], stored as float16 and compared in float32), exactly: brute force over every test digit is
about a millisecond for 10,000 of them, so no index is built. A map's 2-D coordinates play no part:
two digits close on a t-SNE map need not be close in the latent space, and this list says which are.
The point asked about is a test digit's mean (the Latent map's click) or any mean [D] (the reader's
own drawing on the Your digit page): one search serves both.
"""

from __future__ import annotations

import io

import numpy as np

TILE_FACTOR = 2  # a thumbnail: 28 px -> 56 px (other sides: about as wide, ``tile_factor``)
TILE_WIDTH = 56
COLUMNS = 3  # thumbnails per row: 3 x 70 pixels fit the column beside the map unscaled
CELL_MARGIN = 14  # pixels beside each thumbnail: room for its labels
LABEL_SIZE = 12  # pixels of the two lines under each thumbnail


def nearest(means: np.ndarray, point: np.ndarray, k: int,
            leave_out: int | None = None) -> tuple[list[int], list[float]]:
    """The ``k`` rows of ``means`` [N, D] nearest ``point`` [D] by Euclidean distance (row ``leave_out`` left out:
    a test digit is not its own neighbour), nearest first (equal distances by row), and their distances."""
    means = np.asarray(means, dtype=np.float32)
    distance = np.sqrt(np.square(means - np.asarray(point, dtype=np.float32).reshape(1, -1)).sum(axis=1))
    if leave_out is not None:
        distance[leave_out] = np.inf
    count = max(0, min(k, len(distance) - (leave_out is not None)))
    order = np.lexsort((np.arange(len(distance)), distance))[:count]
    return [int(i) for i in order], [float(d) for d in distance[order]]


def thumbnails(model, test_images, means: np.ndarray, rows: list[int]) -> tuple[np.ndarray, bool]:
    """(pictures in [0, 1] of test ``rows``: [K, S, S] grey, [K, S, S, 3] RGB; whether they are the test images).

    ``test_images`` [N, C x S x S] (MNIST: [N, 784]): the test images the means were computed on, or None; without
    them the thumbnails are the decoded means (``model`` decodes them).
    """
    if test_images is not None:
        from vae_core.shapes import pictures

        chosen = np.asarray(test_images[list(rows)])
        config = getattr(model, "config", None)
        if config is None:  # no model: the pixel count says the shape (784: 28 x 28 grey)
            from vae_core.explore import as_pictures

            return as_pictures(chosen), True
        return pictures(chosen, config.channels, config.side), True
    import torch

    from vae_core import explore

    return explore.decode(model, torch.as_tensor(np.asarray(means[list(rows)], dtype=np.float32))), False


def tiles_png(images: np.ndarray, lines: list[tuple[str, str]], columns: int = COLUMNS) -> bytes:
    """Pictures [K, S, S] or [K, S, S, 3] in [0, 1], ``columns`` per row, each with two short lines of text under it
    (each shown about ``TILE_WIDTH`` pixels wide: MNIST's at ``TILE_FACTOR``)."""
    from PIL import Image, ImageDraw

    from vae_core import explore

    factor = tile_factor(np.shape(images)[1])
    side, pad, line = np.shape(images)[1] * factor, 4, LABEL_SIZE + 4
    cell_w, cell_h = side + CELL_MARGIN, side + 2 * line + pad
    count = len(images)
    rows = -(-count // columns)
    sheet = Image.new("RGB", (min(columns, count) * cell_w, rows * cell_h), (255, 255, 255))
    draw, font = ImageDraw.Draw(sheet), explore.label_font(LABEL_SIZE)
    for index, (image, texts) in enumerate(zip(images, lines, strict=True)):
        left, top = (index % columns) * cell_w, (index // columns) * cell_h
        pixels = explore.upscale(explore.to_uint8(image), factor)
        sheet.paste(Image.fromarray(pixels).convert("RGB"), (left + (cell_w - side) // 2, top))
        for number, text in enumerate(texts):
            while draw.textlength(text, font=font) > cell_w - 2 and len(text) > 4:
                text = text[:-2] + "…"
            draw.text((left + cell_w / 2, top + side + 2 + number * line), text, fill=(49, 51, 63) if number == 0
                      else (89, 89, 89), font=font, anchor="mt")
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def tile_factor(side: int) -> int:
    """How much a thumbnail of ``side`` pixels is enlarged: about ``TILE_WIDTH`` wide (28 -> 2, 16 -> 4, 64 -> 1)."""
    return max(1, round(TILE_WIDTH / side))


def digit_name(row: int, train_from: int | None = None) -> str:
    """A map row as a reader names it: '#17' for a test digit; 'train #5' for row ``train_from`` + 5 of a map that
    shows the training digits after the test digits."""
    return f"train #{row - train_from}" if train_from is not None and row >= train_from else f"#{row}"


def tile_lines(rows: list[int], distances: list[float], labels: np.ndarray,
               names: tuple[str, ...], train_from: int | None = None) -> list[tuple[str, str]]:
    """The two lines under each neighbour's thumbnail: '#index · class' (``digit_name``), then its distance."""
    return [(f"{digit_name(r, train_from)} · {names[int(labels[r])]}", f"{d:.3f}")
            for r, d in zip(rows, distances, strict=True)]
