"""A person's own digit, prepared as MNIST prepared its digits: an upload or a drawing -> [28, 28] in [0, 1].

LeCun et al. describe MNIST's preparation: each digit was scaled to fit a 20 x 20 box
keeping its aspect ratio (anti-aliasing gives grey levels), then placed in a 28 x 28 image
so that its centre of mass sits at the centre. ``to_mnist`` does the same to any grey
image, after turning a dark-on-light picture into MNIST's light ink on black.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from .config import IMAGE_PIXELS, IMAGE_SIDE

BOX = 20  # the digit's longer side after scaling, as in MNIST
INK = 0.1  # grey levels above this fraction of the brightest pixel belong to the digit's bounding box
MAX_PIXELS = 4096 * 4096  # larger uploads are refused before decoding (decompression bombs)
FORMATS = ("PNG", "JPEG")


class DigitImageError(ValueError):
    """An upload or drawing that cannot become a digit; the message is one sentence for the page."""


def read_image(data: bytes) -> np.ndarray:
    """PNG or JPEG bytes -> ink [H, W] float32 in [0, 1] (1 = most ink), before any MNIST preparation.

    A picture with a transparent background is read by its opacity (what was painted); any
    other is read as grey levels, inverted when its border is lighter than its middle.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise DigitImageError(f"The image is {image.width} x {image.height} pixels; "
                                          "upload one of at most 4096 x 4096.")
                image.load()
                rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    except DigitImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, SyntaxError) as error:
        raise DigitImageError("That file is not a readable PNG or JPEG image.") from error
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


def from_upload(data: bytes) -> np.ndarray:
    """An uploaded PNG or JPEG -> [28, 28] float32 in [0, 1]; DigitImageError (one sentence) otherwise."""
    return to_mnist(read_image(data))


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
