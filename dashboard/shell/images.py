"""PNG images for the pages: decoded digits, grids, strips and labelled sample grids.

Everything is returned as PNG bytes, upscaled by nearest neighbour so digits stay crisp
at any display size; nothing here draws a widget.
"""

from __future__ import annotations

import io

import numpy as np

from dashboard.shell import cache, points
from vae_core.defaults import UNSURE

DIGIT_SCALE = 10  # one decoded digit: 28 px -> 280 px
GRID_SCALE = 3  # grids of many digits
MAX_IMAGE_WIDTH = 1460  # Streamlit shrinks wider images with bilinear blur: stay below it
TILE_FONT_SIZE = 12
AMBER = (255, 176, 0)  # an unsure guess
PARTNER = (140, 200, 255)  # the nearest training image and its distance


def digit_png(model, z, factor: int = DIGIT_SCALE) -> bytes:
    """One decoded digit from z [D], as a crisp PNG."""
    from vae_core import explore

    return explore.png_bytes(explore.decode(model, z.reshape(1, -1))[0], factor)


def grid_png(images, columns: int, factor: int = GRID_SCALE) -> bytes:
    """images [N, S, S] (grey) or [N, S, S, 3] (RGB) in [0, 1] -> one tiled PNG (``vae_core.exports.grid_png``), at
    most MAX_IMAGE_WIDTH wide."""
    from vae_core import exports

    images = np.asarray(images)
    width = min(columns, len(images)) * images.shape[2]
    return exports.grid_png(images, columns, max(1, min(factor, MAX_IMAGE_WIDTH // max(width, 1))))


def generated_grid_png(model, seed: int, count: int, temperature: float, columns: int,
                       factor: int = GRID_SCALE) -> bytes:
    """PNG of ``count`` images decoded from prior draws of ``model`` (same seed, same latent draws)."""
    from vae_core import explore

    z = explore.prior_samples(model.config.latent_dim, count, seed, temperature)
    return grid_png(explore.decode(model, z), columns, factor)


@cache.per_checkpoint()
def generated_grid_png_for(checkpoint, seed: int, count: int, temperature: float, columns: int) -> bytes:
    """``generated_grid_png`` of a checkpoint's model, cached per checkpoint and arguments."""
    return generated_grid_png(cache.model_for(checkpoint), seed, count, temperature, columns)


def manifold_png(model, base: tuple, dims: tuple[int, int], steps: int, factor: int = 2) -> bytes:
    """Decoded steps x steps grid over ``dims`` at prior quantiles 5%..95%, others at ``base``."""
    import torch

    from vae_core import explore

    z = explore.manifold_latents(torch.tensor(base, dtype=torch.float32), dims, explore.normal_quantiles(steps))
    return grid_png(explore.decode(model, z), steps, factor)


def interpolation_png(model, start, end, steps: int, factor: int = GRID_SCALE) -> bytes:
    """A strip of ``steps`` digits decoded along the line from ``start`` [D] to ``end`` [D]."""
    from vae_core import explore

    return grid_png(explore.decode(model, explore.interpolate(start, end, steps)), steps, factor)


def test_images_png(split, indices, columns: int, factor: int = GRID_SCALE) -> bytes:
    """The original test images at ``indices`` as one tiled PNG (grey or RGB, as the data set's)."""
    from vae_core.shapes import as_pictures

    return grid_png(as_pictures(split.images[[int(i) for i in indices]].numpy()), columns, factor)


def decoded_means_png(model, split, arrays, indices, columns: int, factor: int = GRID_SCALE) -> bytes:
    """Reconstructions: the decoded posterior means of the test digits at ``indices``."""
    from vae_core import explore

    return grid_png(explore.decode(model, points.test_means(model, split, arrays, indices)), columns, factor)


def annotated_grid_png(images: np.ndarray, columns: int, labels: list[tuple[str, float]] | None = None,
                       partners: np.ndarray | None = None, partner_notes: list[str] | None = None,
                       factor: int = 3, max_width: int = 1460) -> bytes:
    """Samples [N, S, S] (or RGB [N, S, S, 3]) tiled ``columns`` per row, each cell with optional extras under it.

    Under a sample: its partner image [S, S] (the nearest training image), then one text
    line per annotation: the classifier's (class, probability), amber when unsure, and the partner's note.
    """
    from PIL import Image, ImageDraw

    from vae_core import explore

    count = len(images)
    columns = max(1, min(columns, count))
    factor = max(1, min(factor, max_width // (columns * (images.shape[1] + 2))))
    side, pad = images.shape[1] * factor, 2
    font_size = max(9, min(TILE_FONT_SIZE + 2 * (factor - 2), 16))
    line = font_size + 7
    lines = (labels is not None) + (partner_notes is not None)
    cell_w, cell_h = side + pad, side * (1 + (partners is not None)) + pad * (1 + (partners is not None)) + line * lines
    rows = -(-count // columns)
    canvas = Image.new("RGB", (columns * cell_w + pad, rows * cell_h + pad), (89, 89, 89))
    draw, font, bold = ImageDraw.Draw(canvas), explore.label_font(font_size), explore.label_font(font_size + 3)
    for index in range(count):
        left, top = pad + (index % columns) * cell_w, pad + (index // columns) * cell_h
        tiles = [images[index]] + ([partners[index]] if partners is not None else [])
        for number, tile in enumerate(tiles):
            if number:  # the partner's top edge in the colour of its note: sample above, neighbour below
                draw.rectangle([left, top - pad, left + side - 1, top - 1], fill=PARTNER)
            pixels = explore.upscale(explore.to_uint8(tile), factor)
            canvas.paste(Image.fromarray(pixels).convert("RGB"), (left, top))
            top += side + pad
        texts = []
        if labels is not None:
            name, probability = labels[index]
            sure = probability >= UNSURE
            texts.append([(name, (255, 255, 255) if sure else AMBER, bold),
                          (f"  {probability:.0%}", (170, 170, 170) if sure else AMBER, font)])
        if partner_notes is not None:
            texts.append([(partner_notes[index], PARTNER, font)])
        for parts in texts:
            draw.rectangle([left, top, left + side - 1, top + line - 2], fill=(17, 17, 17))
            x = left + (side - sum(draw.textlength(t, font=f) for t, _, f in parts)) / 2
            for text, colour, part_font in parts:
                draw.text((x, top + line - 3), text, fill=colour, font=part_font, anchor="ls")
                x += draw.textlength(text, font=part_font)
            top += line
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
