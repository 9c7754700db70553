"""A person's own digit prepared as MNIST's: inversion, the 20 x 20 box, the centre of mass, refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vae_core import digits


def png(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def photo_of_a_seven(size=(300, 200), ink=0, paper=255, mode="L") -> Image.Image:
    """A dark 7 on light paper, off-centre and wider than tall, as a phone photo of a drawing might be."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    draw.line([(60, 40), (150, 30)], fill=ink, width=16)
    draw.line([(150, 30), (110, 180)], fill=ink, width=16)
    return image


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


def bounding_box(image: np.ndarray, level: float = 0.05) -> tuple[int, int]:
    rows, columns = np.nonzero(image > level)
    return rows.max() - rows.min() + 1, columns.max() - columns.min() + 1


@pytest.mark.parametrize("format", ["PNG", "JPEG"])
def test_an_upload_becomes_a_centred_28x28_digit_in_a_20x20_box(format):
    digit = digits.from_upload(png(photo_of_a_seven(), format))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0 and digit.max() > 0.9
    row, column = centre_of_mass(digit)
    assert abs(row - 13.5) <= 0.5 and abs(column - 13.5) <= 0.5
    height, width = bounding_box(digit)
    assert max(height, width) in (20, 21, 22)  # 20 pixels of ink, plus the resampling filter's soft edge
    assert height > width  # the aspect ratio is kept: the 7 is taller than wide


def test_dark_ink_on_light_paper_and_light_ink_on_dark_give_the_same_digit():
    on_paper = digits.from_upload(png(photo_of_a_seven(ink=20, paper=235)))
    on_black = digits.from_upload(png(photo_of_a_seven(ink=235, paper=20)))
    assert np.abs(on_paper - on_black).max() < 1e-5
    assert on_paper[0].max() == 0 and on_paper[13:15, 13:15].sum() > 0  # light digit, black border


def test_a_colour_picture_and_a_transparent_one_are_read():
    colour = photo_of_a_seven(ink=(20, 40, 200), paper=(250, 240, 220), mode="RGB")
    transparent = photo_of_a_seven(ink=(0, 0, 0, 255), paper=(255, 255, 255, 0), mode="RGBA")
    for image in (colour, transparent):
        digit = digits.from_upload(png(image))
        assert abs(centre_of_mass(digit)[0] - 13.5) <= 0.5 and digit.max() > 0.9


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"%PDF-1.4\n%...", b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                  png(photo_of_a_seven(), "GIF")])
def test_a_non_image_is_a_one_line_error(data):
    with pytest.raises(digits.DigitImageError) as error:
        digits.from_upload(data)
    message = str(error.value)
    assert "\n" not in message and message.endswith(".") and "PNG or JPEG" in message


def test_a_blank_image_is_a_one_line_error():
    with pytest.raises(digits.DigitImageError, match="No digit found"):
        digits.from_upload(png(Image.new("L", (64, 64), 255)))


def test_a_huge_image_is_refused_before_decoding():
    huge = Image.new("1", (5000, 5000), 1)
    with pytest.raises(digits.DigitImageError, match="at most 4096 x 4096"):
        digits.from_upload(png(huge))


def test_a_drawing_is_prepared_the_same_way_and_an_empty_one_is_none():
    pad = np.zeros((28, 28))
    pad[3:10, 2:12] = 255  # a blob in the corner, drawn small
    digit = digits.from_drawing(pad.reshape(-1).tolist())
    row, column = centre_of_mass(digit)
    assert abs(row - 13.5) <= 0.5 and abs(column - 13.5) <= 0.5
    assert max(bounding_box(digit)) in (20, 21, 22)
    assert digits.from_drawing([0] * 784) is None


@pytest.mark.parametrize("pixels", [None, [0] * 783, ["1"] * 784, [float("nan")] * 784, [True] * 784, "x" * 784])
def test_a_malformed_drawing_is_refused(pixels):
    with pytest.raises(digits.DigitImageError):
        digits.from_drawing(pixels)


def test_centre_by_mass_keeps_a_lopsided_digit_inside():
    digit = np.zeros((20, 8), dtype=np.float32)
    digit[:, :2] = 1.0  # all the mass on the left edge: the shift moves it right
    placed = digits.centre_by_mass(digit)
    assert placed.shape == (28, 28) and placed.sum() == pytest.approx(digit.sum())
