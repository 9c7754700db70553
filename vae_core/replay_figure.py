"""The replay as pictures: one frame per epoch, the map of the test subset beside the sample grid.

Frames are palette images drawn straight from the arrays (no plotting library): the ten class
colours, the page's text and a ramp of greys for the decoded digits share one fixed palette, so
every frame of the GIF uses the same colours and nothing is quantised. A model of RGB images has a
6 x 6 x 6 colour cube in place of the greys: its decoded pictures are rounded to it, the same way in
every frame.
"""

from __future__ import annotations

import io

import numpy as np

from .explore import tile, upscale

DIGIT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",  # matplotlib's tab10, as the dashboard's
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
BACKGROUND, TEXT, FRAME, FIRST_COLOUR = 0, 1, 2, 3
FIRST_GREY = FIRST_COLOUR + len(DIGIT_COLORS)  # palette entries from here on: black to white
GREYS = 256 - FIRST_GREY
CUBE = 6  # levels per channel of the RGB replay's colour cube: 216 entries after the fixed ones
MAP_SIDE = 466  # pixels: as tall as MNIST's 8 x 8 grid at twice its size (8 * 29 + 1 = 233)
MARGIN, GAP, HEADER, FOOTER = 12, 24, 58, 30
LAST_FRAME_MS = 2000  # the trained model stays in view a moment before the loop starts again


def _rgb(colour: str) -> list[int]:
    return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]


def palette(rgb: bool = False) -> list[int]:
    """White, text, frame, the ten class colours, then ``GREYS`` levels from black to white (``rgb``: the
    ``CUBE``-level colour cube, red slowest), as 768 values or fewer."""
    entries = [[255, 255, 255], [38, 39, 48], [200, 200, 200], *map(_rgb, DIGIT_COLORS)]
    if rgb:
        levels = [round(255 * k / (CUBE - 1)) for k in range(CUBE)]
        entries += [[r, g, b] for r in levels for g in levels for b in levels]
    else:
        entries += [[round(255 * k / (GREYS - 1))] * 3 for k in range(GREYS)]
    return [value for entry in entries for value in entry]


def _map_pixels(points: np.ndarray, labels: np.ndarray, ranges) -> np.ndarray:
    """points [M, 2] in data coordinates -> a [MAP_SIDE, MAP_SIDE] palette image, 3 x 3 pixels a point."""
    canvas = np.full((MAP_SIDE, MAP_SIDE), BACKGROUND, dtype=np.uint8)
    canvas[[0, -1], :] = canvas[:, [0, -1]] = FRAME
    (x0, x1), (y0, y1) = ranges
    columns = np.rint((points[:, 0] - x0) / (x1 - x0) * (MAP_SIDE - 5)).astype(int) + 2
    rows = np.rint((y1 - points[:, 1]) / (y1 - y0) * (MAP_SIDE - 5)).astype(int) + 2
    inside = (columns >= 2) & (columns <= MAP_SIDE - 3) & (rows >= 2) & (rows <= MAP_SIDE - 3)
    colours = (FIRST_COLOUR + labels).astype(np.uint8)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            canvas[rows[inside] + dy, columns[inside] + dx] = colours[inside]
    return canvas


def grid_factor(side: int) -> int:
    """How much the grid's pictures are enlarged: its 8 x 8 tiles about ``MAP_SIDE`` tall (MNIST's 28: twice)."""
    return max(1, round(MAP_SIDE / (8 * (side + 1) + 1)))


def _grid_pixels(grid: np.ndarray) -> np.ndarray:
    """grid [64, S, S] (or [64, S, S, 3]) uint8 -> the tiled 8 x 8 pictures enlarged by ``grid_factor``, as palette
    greys (RGB: entries of the colour cube)."""
    tiled = upscale(tile(grid.astype(np.float32) / 255.0, 8), grid_factor(grid.shape[1])).astype(np.float32)
    if tiled.ndim == 2:
        return (FIRST_GREY + np.rint(tiled * (GREYS - 1) / 255.0)).astype(np.uint8)
    red, green, blue = np.rint(np.moveaxis(tiled, -1, 0) * (CUBE - 1) / 255.0).astype(np.int64)
    return (FIRST_GREY + (red * CUBE + green) * CUBE + blue).astype(np.uint8)


def caption(epoch: int, last: int, history: list[dict]) -> str:
    """The frame's title: 'epoch 3 of 12 · test loss 123.4 nats per image' (epoch 0: the initialisation)."""
    if epoch == 0:
        return f"epoch 0 of {last} · the initialisation, before any training"
    row = next((r for r in history if r.get("epoch") == epoch), None)
    loss = "" if row is None else f" · test loss {row['test_loss']:.1f} nats per image"
    return f"epoch {epoch} of {last}{loss}"


def replay_frames(replay, coords: np.ndarray, history: list[dict]) -> list:
    """One PIL palette image per epoch of ``replay``: coords [E+1, M, 2] (aligned) on fixed axes, and its grid."""
    from PIL import Image, ImageDraw

    from .explore import label_font
    from .replay import fixed_range

    ranges = fixed_range(coords)
    grid_side = _grid_pixels(replay.grids[0]).shape[0]
    width, height = 2 * MARGIN + MAP_SIDE + GAP + grid_side, HEADER + max(MAP_SIDE, grid_side) + FOOTER
    title_font, small_font = label_font(17), label_font(13)
    map_name = "latent means z[0], z[1]" if replay.latent_axes else f"PCA of the z = {replay.latent_dim} means, aligned"
    frames = []
    for e, epoch in enumerate(replay.epochs):
        canvas = np.full((height, width), BACKGROUND, dtype=np.uint8)
        canvas[HEADER:HEADER + MAP_SIDE, MARGIN:MARGIN + MAP_SIDE] = _map_pixels(coords[e], replay.labels, ranges)
        left = MARGIN + MAP_SIDE + GAP
        canvas[HEADER:HEADER + grid_side, left:left + grid_side] = _grid_pixels(replay.grids[e])
        picture = Image.fromarray(canvas, mode="P")
        draw = ImageDraw.Draw(picture)
        draw.text((MARGIN, 8), caption(int(epoch), replay.last_epoch, history), fill=TEXT, font=title_font)
        draw.text((MARGIN, HEADER - 20), f"{len(replay.labels):,} test digits: {map_name}", fill=TEXT,
                  font=small_font)
        draw.text((left, HEADER - 20), "decoded from 64 fixed prior draws", fill=TEXT, font=small_font)
        _legend(draw, MARGIN, HEADER + MAP_SIDE + 8, small_font)
        picture.putpalette(palette(rgb=replay.grids.ndim == 5))
        frames.append(picture)
    return frames


def _legend(draw, x: int, y: int, font) -> None:
    for k in range(len(DIGIT_COLORS)):
        draw.rectangle([x, y + 3, x + 9, y + 12], fill=FIRST_COLOUR + k)
        draw.text((x + 13, y), str(k), fill=TEXT, font=font)
        x += 34


def save_gif(frames: list, frame_ms: int) -> bytes:
    """Palette frames -> a looping GIF's bytes, the last frame held for ``LAST_FRAME_MS``."""
    durations = [frame_ms] * (len(frames) - 1) + [max(frame_ms, LAST_FRAME_MS)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   optimize=False, disposal=1)
    return buffer.getvalue()
