"""The thumbnails a map shows under the cursor, as the binary messages the canvas registers once per browser session.

Both layouts start with b"VAES", a u32 header length (little-endian) and a UTF-8 JSON header; canvas.js's
``registerSprite`` reads either. The test set's sheet is a PNG (small, decoded to a bitmap the page draws from); the
training set's is raw grey levels, gzipped (``grey_sprite_payload``).
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

MAGIC = b"VAES"
SPRITE_COLUMNS = 100  # digits per row of the sprite sheet: 10,000 test digits make a 2800 x 2800 PNG


def sprite_payload(images: np.ndarray, sprite_id: str) -> bytes:
    """Test digits [N, 28, 28] in [0, 1] as one binary message: the thumbnails of the map.

    Layout: b"VAES", u32 header length (little-endian), UTF-8 JSON header (id, count, columns),
    then a greyscale PNG with digit k at column k % columns, row k // columns (28 x 28 each).
    """
    from PIL import Image

    count = len(images)
    rows = -(-count // SPRITE_COLUMNS)
    sheet = np.zeros((rows * SPRITE_COLUMNS, 28, 28), dtype=np.uint8)
    sheet[:count] = np.clip(np.rint(np.asarray(images, dtype=np.float32).reshape(count, 28, 28) * 255), 0, 255)
    sheet = sheet.reshape(rows, SPRITE_COLUMNS, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, SPRITE_COLUMNS * 28)
    buffer = io.BytesIO()
    Image.fromarray(sheet, mode="L").save(buffer, format="PNG", compress_level=6)
    header = json.dumps({"id": sprite_id, "count": count, "columns": SPRITE_COLUMNS}).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + buffer.getvalue()


def grey_sprite_payload(images: np.ndarray, sprite_id: str) -> bytes:
    """Digits [N, 784] (or [N, 28, 28]) in [0, 1] as one binary message of raw grey levels, gzipped: a sheet too big
    for one PNG (60,000 training digits would decode to a 188 MB RGBA bitmap; as bytes they are 47 MB).

    Layout: b"VAES", u32 header length, JSON header (id, count, format "grey-gzip", side), then gzip of uint8
    [N, 28, 28]; the page inflates it with the browser's DecompressionStream.
    """
    import gzip

    count = len(images)
    grey = np.clip(np.rint(np.asarray(images, dtype=np.float32).reshape(count, 28 * 28) * 255), 0, 255)
    header = json.dumps({"id": sprite_id, "count": count, "format": "grey-gzip", "side": 28}).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + gzip.compress(grey.astype(np.uint8).tobytes(), 6)
