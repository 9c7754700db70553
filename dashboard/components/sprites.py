"""The thumbnails a map shows under the cursor, as the binary messages the canvas registers once per browser session.

Both layouts start with b"VAES", a u32 header length (little-endian) and a UTF-8 JSON header that says the images'
shape (``channels``: 1 grey or 3 RGB, ``side``); canvas.js's ``registerSprite`` reads either and draws a thumbnail at
the same size on screen whatever the side. The test set's sheet is a PNG (small, decoded to a bitmap the page draws
from); the training set's is raw levels, gzipped (``gzip_sprite_payload``).

Images come as the data sets hold them: flattened, channels first, [N, channels x side x side], in [0, 1].
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

from vae_core.config import IMAGE_SIDE
from vae_core.shapes import pictures

MAGIC = b"VAES"
SPRITE_COLUMNS = 100  # images per row of the sprite sheet: 10,000 MNIST test digits make a 2800 x 2800 PNG


def _levels(images: np.ndarray, channels: int, side: int) -> np.ndarray:
    """Images in [0, 1] (any shape holding [N, channels x side x side], channels first) -> uint8 [N, C x S x S]."""
    flat = np.asarray(images, dtype=np.float32).reshape(len(images), channels * side * side)
    return np.clip(np.rint(flat * 255), 0, 255).astype(np.uint8)


def sprite_payload(images: np.ndarray, sprite_id: str, channels: int = 1, side: int = IMAGE_SIDE) -> bytes:
    """Test images [N, channels x side x side] (channels first; MNIST's [N, 28, 28] too) in [0, 1] as one binary
    message: the thumbnails of the map.

    Layout: b"VAES", u32 header length (little-endian), UTF-8 JSON header (id, count, columns, channels, side),
    then a PNG (greyscale, or RGB for 3 channels) with image k at column k % columns, row k // columns (side x side
    each).
    """
    from PIL import Image

    count = len(images)
    rows = -(-count // SPRITE_COLUMNS)
    tiles = pictures(_levels(images, channels, side), channels, side)  # [N, S, S] or [N, S, S, 3]
    sheet = np.zeros((rows * SPRITE_COLUMNS, *tiles.shape[1:]), dtype=np.uint8)
    sheet[:count] = tiles
    sheet = sheet.reshape(rows, SPRITE_COLUMNS, *tiles.shape[1:]).swapaxes(1, 2)
    sheet = sheet.reshape(rows * side, SPRITE_COLUMNS * side, *tiles.shape[3:])
    buffer = io.BytesIO()
    Image.fromarray(sheet, mode="L" if channels == 1 else "RGB").save(buffer, format="PNG", compress_level=6)
    header = json.dumps({"id": sprite_id, "count": count, "columns": SPRITE_COLUMNS, "channels": channels,
                         "side": side}).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + buffer.getvalue()


def gzip_sprite_payload(images: np.ndarray, sprite_id: str, channels: int = 1, side: int = IMAGE_SIDE) -> bytes:
    """Images [N, channels x side x side] (channels first) in [0, 1] as one binary message of raw levels, gzipped: a
    sheet too big for one PNG (60,000 training digits would decode to a 188 MB RGBA bitmap; as bytes they are 47 MB).

    Layout: b"VAES", u32 header length, JSON header (id, count, format "grey-gzip" or, for 3 channels, "rgb-gzip",
    channels, side), then gzip of uint8 [N, channels x side x side], channels first; the page inflates it with the
    browser's DecompressionStream.
    """
    import gzip

    count = len(images)
    header = json.dumps({"id": sprite_id, "count": count, "format": "grey-gzip" if channels == 1 else "rgb-gzip",
                         "channels": channels, "side": side}).encode()
    levels = _levels(images, channels, side)
    return MAGIC + struct.pack("<I", len(header)) + header + gzip.compress(levels.tobytes(), 6)
