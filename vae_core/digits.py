"""A person's own digit, prepared as MNIST prepared its digits: an upload or a drawing -> [28, 28] in [0, 1].

LeCun et al. describe MNIST's preparation: each digit was scaled to fit a 20 x 20 box
keeping its aspect ratio (anti-aliasing gives grey levels), then placed in a 28 x 28 image
so that its centre of mass sits at the centre. ``to_mnist`` does the same to any grey
image, after turning a dark-on-light picture into MNIST's light ink on black.
"""

from __future__ import annotations

import hashlib
import io
import struct
import threading
import zlib
from collections import OrderedDict

import numpy as np

from .config import IMAGE_PIXELS, IMAGE_SIDE

BOX = 20  # the digit's longer side after scaling, as in MNIST
INK = 0.1  # grey levels above this fraction of the brightest pixel belong to the digit's bounding box

# Bounds on an upload, each checked before the work it would cost.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # Your digit's uploader says the same to Streamlit (max_upload_size, in MiB)
MAX_PIXELS = 4096 * 4096  # from the header: the decoded picture is then at most 64 MB (4 bytes a pixel)
MAX_TEXT_BYTES = 64 * 1024  # PNG text chunks (tEXt, zTXt, iTXt) on disk; none is ever inflated
# The longer side an upload is shrunk to before any float copy. Not 28: the digit's ink is cropped
# first, and a digit spanning a tenth of the picture must still have MNIST's 20 pixels to scale.
WORK_SIDE = 10 * IMAGE_SIDE
CACHE_SIZE = 16  # prepared uploads kept (about 3 KB each), by the SHA-256 of their bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_PIXEL_CHUNKS = (b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND")  # all the pixels need; metadata is dropped
PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
UNREADABLE = "That file is not a readable PNG or JPEG image."


class DigitImageError(ValueError):
    """An upload or drawing that cannot become a digit; the message is one sentence for the page."""


# One decode at a time for the whole server: concurrent sessions then cost one picture's memory, not N.
_lock = threading.Lock()
_cache: OrderedDict[bytes, np.ndarray | str] = OrderedDict()  # sha256 -> digit [28, 28] or the error message


def read_upload(data: bytes) -> np.ndarray:
    """An uploaded PNG or JPEG -> [28, 28] float32 in [0, 1]; DigitImageError (one sentence) otherwise.

    Streamlit reruns the page while the file stays, so each upload's result (or error) is kept by the
    hash of its bytes and the picture is decoded once.
    """
    key = hashlib.sha256(data).digest()
    with _lock:
        result = _cache.get(key)
        if result is None:
            try:
                result = to_mnist(read_image(data))
            except DigitImageError as error:
                result = str(error)
            _cache[key] = result
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
    if isinstance(result, str):
        raise DigitImageError(result)
    return result.copy()  # the caller's own: the cached digit is shared by every session


def read_image(data: bytes) -> np.ndarray:
    """PNG or JPEG bytes -> ink [h, w] float32 in [0, 1] (1 = most ink), longer side at most WORK_SIDE.

    The bounds are checked on the file's size and header before decoding. A picture with a transparent
    background is read by its opacity (what was painted); any other is read as grey levels, inverted when
    its border is lighter than its middle.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise DigitImageError(f"The file is {len(data) / 2**20:.1f} MB, more than the "
                              f"{MAX_UPLOAD_BYTES // 2**20} MB this page reads: upload a smaller image.")
    image = open_header(data)
    try:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise DigitImageError(f"The image is {width} x {height} pixels, more than the {MAX_PIXELS:,} "
                                  "this page reads: upload a smaller image.")
        return ink_of(shrunk(image))
    except (OSError, ValueError, SyntaxError, struct.error, zlib.error) as error:
        if isinstance(error, DigitImageError):
            raise
        raise DigitImageError(UNREADABLE) from error
    finally:
        image.close()


def open_header(data: bytes):
    """The Pillow image of PNG or JPEG bytes, its header read and its pixels not yet decoded.

    Pillow's plugins are called directly: ``Image.open`` would refuse a large bomb with its own
    DecompressionBombError before we could say how large it is. A PNG is opened without its metadata.
    """
    from PIL import JpegImagePlugin, PngImagePlugin

    png = pixel_chunks(data) if data.startswith(PNG_SIGNATURE) else None
    try:
        if png is not None:
            return PngImagePlugin.PngImageFile(io.BytesIO(png))
        if data.startswith(JPEG_SIGNATURE):
            return JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    except (OSError, ValueError, SyntaxError, struct.error) as error:
        raise DigitImageError(UNREADABLE) from error
    raise DigitImageError(UNREADABLE)


def pixel_chunks(data: bytes) -> bytes:
    """PNG bytes -> the same PNG with only the chunks its pixels need.

    Text, colour profiles and Exif are dropped unread, so a compressed text chunk is never inflated;
    text larger than MAX_TEXT_BYTES on disk is refused outright.
    """
    kept, text, offset = [PNG_SIGNATURE], 0, len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        end = offset + 12 + length  # length, type, data, CRC
        if end > len(data):
            break
        text += length if kind in PNG_TEXT_CHUNKS else 0
        if kind in PNG_PIXEL_CHUNKS:
            kept.append(data[offset:end])
        offset = end
        if kind == b"IEND":
            break
    if text > MAX_TEXT_BYTES:
        raise DigitImageError(f"The PNG carries {text:,} bytes of text, more than the {MAX_TEXT_BYTES:,} this "
                              "page reads: save it without its metadata and upload it again.")
    return b"".join(kept)


def shrunk(image):
    """A Pillow image -> one whose longer side is at most WORK_SIDE, decoded at the smallest size that allows.

    A JPEG decodes straight to a power-of-two fraction of its size (``draft``). Modes "1" and "P" are
    widened first, because Pillow resizes them by nearest neighbour, which would drop thin strokes.
    """
    from PIL import Image

    scale = WORK_SIDE / max(image.size)
    if scale >= 1:
        image.load()
        return image
    image.draft(None, (WORK_SIDE, WORK_SIDE))
    image.load()
    if image.mode == "1" or (image.mode == "P" and "transparency" not in image.info):
        image = image.convert("L")
    elif image.mode in ("P", "PA"):
        image = image.convert("LA")
    scale = WORK_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Pillow's fast integer reduction, which resize uses with a reducing gap, has no 16-bit mode.
    gap = None if image.mode.startswith("I;16") else 3.0
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)


def ink_of(image) -> np.ndarray:
    """A small decoded Pillow image of any mode -> ink [h, w] float32 in [0, 1] (1 = most ink)."""
    if image.mode.startswith("I"):  # 16-bit greyscale ("I;16", or "I" from older Pillow): 65535 is white
        return light_ink(np.clip(np.asarray(image, dtype=np.float32) / 65535.0, 0.0, 1.0))
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    if alpha.min() < 0.5 <= alpha.max():  # transparent background: the painted pixels are the digit
        return alpha
    grey = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return light_ink(grey)


def light_ink(grey: np.ndarray) -> np.ndarray:
    """grey [H, W] in [0, 1] -> the same with the digit light on a dark background (MNIST's polarity).

    The background is the border's median; a light background means dark ink, so the image is inverted.
    """
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if np.median(border) > 0.5 else grey


def to_mnist(ink: np.ndarray) -> np.ndarray:
    """ink [H, W] in [0, 1] (light digit on dark) -> [28, 28] float32 in [0, 1], prepared as MNIST's digits.

    The background level is subtracted and the brightest pixel scaled to 1; the bounding box of
    the ink is scaled (aspect kept, anti-aliased) so its longer side is 20 pixels, and pasted so
    that the centre of mass falls on the image centre (13.5, 13.5) to within half a pixel.
    Raises DigitImageError when there is no ink.
    """
    from PIL import Image

    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2 or not np.isfinite(ink).all():
        raise DigitImageError("The image must be one grey channel of finite values.")
    ink = np.clip(ink - np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])), 0, None)
    if ink.max() <= 0.05:
        raise DigitImageError("No digit found: the image is blank or has no contrast.")
    ink = ink / ink.max()
    rows, columns = np.nonzero(ink > INK)
    box = ink[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    height, width = box.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(box, mode="F").resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    small = np.clip(small, 0.0, 1.0)
    return centre_by_mass(small)


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """digit [h, w] (h, w <= 28) -> [28, 28]: pasted with its centre of mass on the centre pixel corner (13.5, 13.5)."""
    total = digit.sum()
    rows, columns = np.indices(digit.shape)
    centre = ((rows * digit).sum() / total, (columns * digit).sum() / total)
    middle = (IMAGE_SIDE - 1) / 2
    top, left = (int(np.floor(middle - c + 0.5)) for c in centre)
    # The shift may push a lopsided digit's edge off the image: paste into a wide canvas, keep the middle.
    wide = np.zeros((3 * IMAGE_SIDE, 3 * IMAGE_SIDE), dtype=np.float32)
    top, left = IMAGE_SIDE + top, IMAGE_SIDE + left
    wide[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return wide[IMAGE_SIDE:2 * IMAGE_SIDE, IMAGE_SIDE:2 * IMAGE_SIDE]


def from_drawing(pixels) -> np.ndarray | None:
    """784 grey levels 0..255 from the drawing canvas (row-major, ink light) -> [28, 28] prepared as MNIST.

    None for an empty drawing; DigitImageError for anything that is not 784 finite numbers.
    """
    values = np.asarray(pixels if isinstance(pixels, list | tuple) else [], dtype=object)
    if values.shape != (IMAGE_PIXELS,) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise DigitImageError("The drawing must be 784 grey levels.")
    grey = np.clip(values.astype(np.float64), 0, 255).astype(np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE) / 255.0
    if not np.isfinite(grey).all():
        raise DigitImageError("The drawing must be 784 finite grey levels.")
    if grey.max() <= 0.05:
        return None
    return to_mnist(grey)
