"""A person's own digit prepared as MNIST's: inversion, the 20 x 20 box, the centre of mass, refusals."""

from __future__ import annotations

import io
import struct
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests import hostile_uploads
from tests.hostile_uploads import PNG_SIGNATURE, png_bomb
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
    digit = digits.read_upload(png(photo_of_a_seven(), format))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0 and digit.max() > 0.9
    row, column = centre_of_mass(digit)
    assert abs(row - 13.5) <= 0.5 and abs(column - 13.5) <= 0.5
    height, width = bounding_box(digit)
    assert max(height, width) in (20, 21, 22)  # 20 pixels of ink, plus the resampling filter's soft edge
    assert height > width  # the aspect ratio is kept: the 7 is taller than wide


def test_dark_ink_on_light_paper_and_light_ink_on_dark_give_the_same_digit():
    on_paper = digits.read_upload(png(photo_of_a_seven(ink=20, paper=235)))
    on_black = digits.read_upload(png(photo_of_a_seven(ink=235, paper=20)))
    assert np.abs(on_paper - on_black).max() < 1e-5
    assert on_paper[0].max() == 0 and on_paper[13:15, 13:15].sum() > 0  # light digit, black border


def test_a_colour_picture_and_a_transparent_one_are_read():
    colour = photo_of_a_seven(ink=(20, 40, 200), paper=(250, 240, 220), mode="RGB")
    transparent = photo_of_a_seven(ink=(0, 0, 0, 255), paper=(255, 255, 255, 0), mode="RGBA")
    for image in (colour, transparent):
        digit = digits.read_upload(png(image))
        assert abs(centre_of_mass(digit)[0] - 13.5) <= 0.5 and digit.max() > 0.9


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"%PDF-1.4\n%...", b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                  png(photo_of_a_seven(), "GIF")])
def test_a_non_image_is_a_one_line_error(data):
    with pytest.raises(digits.DigitImageError) as error:
        digits.read_upload(data)
    message = str(error.value)
    assert "\n" not in message and message.endswith(".") and "PNG or JPEG" in message


def test_a_blank_image_is_a_one_line_error():
    with pytest.raises(digits.DigitImageError, match="No digit found"):
        digits.read_upload(png(Image.new("L", (64, 64), 255)))


def test_a_huge_image_is_refused_before_decoding():
    huge = Image.new("1", (5000, 5000), 1)
    with pytest.raises(digits.DigitImageError, match="is 5000 x 5000 pixels, more than the 16,777,216"):
        digits.read_upload(png(huge))


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


# Hostile uploads (fault-matrix rows 45-49): real files, built here and in tests/hostile_uploads.py.

def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose start-of-frame header is patched to declare width x height pixels."""
    data = bytearray(png(photo_of_a_seven(), "JPEG"))
    frame = data.index(b"\xff\xc0")  # baseline SOF0: marker, length (2), precision (1), height (2), width (2)
    data[frame + 5:frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def peak_python_allocation(function, *args) -> int:
    """The peak bytes Python and numpy allocated while ``function(*args)`` ran (tracemalloc)."""
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def one_line_error(data: bytes) -> str:
    with pytest.raises(digits.DigitImageError) as error:
        digits.read_upload(data)
    message = str(error.value)
    assert "\n" not in message and message.endswith(".")
    return message


def test_row45_a_file_larger_than_the_page_reads_is_refused_unopened():
    message = one_line_error(PNG_SIGNATURE + b"\0" * (3 * 1024 * 1024))
    assert "is 3.0 MB, more than the 2 MB this page reads: upload a smaller image" in message


@pytest.mark.parametrize("bomb", [png_bomb(30000), jpeg_declaring(30000, 30000)], ids=["png", "jpeg"])
def test_row46_a_decompression_bomb_says_how_big_it_is(bomb):
    assert len(bomb) < 2 * 1024 * 1024  # small on disk: only the header tells
    message = one_line_error(bomb)
    assert "is 30000 x 30000 pixels, more than the 16,777,216 this page reads: upload a smaller image" in message


def test_row47_a_4096_square_1_bit_png_is_shrunk_before_any_float_copy():
    data = hostile_uploads.one_bit_4096()
    assert len(data) < 64 * 1024
    peak = peak_python_allocation(digits.read_upload, data)
    assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.0f} MB of arrays for a 28 x 28 digit"
    digit = digits.read_upload(data)
    assert digit.max() > 0.9 and abs(centre_of_mass(digit)[0] - 13.5) <= 0.5


def test_row48_a_big_text_chunk_is_refused():
    message = one_line_error(hostile_uploads.big_text(1_500_000))
    assert "1,500,012 bytes of text" in message and "save it without its metadata" in message


def test_row48_compressed_text_is_never_inflated():
    data = hostile_uploads.inflating_text(40)  # 40 chunks of about 1 KB, each inflating to 1 MB of text
    assert len(data) < 64 * 1024
    peak = peak_python_allocation(digits.read_upload, data)
    assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.0f} MB held while reading a 28 x 28 digit"


def sixteen_bit(ink: int, paper: int) -> bytes:
    """The 8-bit seven as a 16-bit greyscale PNG: grey level v stored as v * 257 (0..255 onto 0..65535)."""
    levels = np.asarray(photo_of_a_seven(ink=ink, paper=paper), dtype=np.uint16) * 257
    data = png(Image.fromarray(levels))  # mode I;16
    assert Image.open(io.BytesIO(data)).mode == "I;16"  # saved as 16 bits, read back as 16 bits
    return data


@pytest.mark.parametrize(("ink", "paper"), [(20, 235), (235, 20)], ids=["dark-ink", "light-ink"])
def test_row49_a_16_bit_png_reads_as_its_8_bit_twin(ink, paper):
    reference = digits.read_upload(png(photo_of_a_seven(ink=ink, paper=paper)))
    assert np.abs(digits.read_upload(sixteen_bit(ink, paper)) - reference).max() < 0.02


@pytest.mark.parametrize("convert", [
    lambda image: image.convert("1"),
    lambda image: image.convert("P"),
    lambda image: image.convert("LA"),
    lambda image: image.convert("RGBA"),
], ids=["1", "P", "LA", "RGBA"])
def test_row49_other_png_modes_read_as_the_grey_original(convert):
    grey = photo_of_a_seven(ink=0, paper=255)
    reference = digits.read_upload(png(grey))
    assert np.abs(digits.read_upload(png(convert(grey))) - reference).max() < 0.05


def test_row49_a_cmyk_jpeg_reads_as_the_grey_one():
    grey = photo_of_a_seven(ink=0, paper=255)
    reference = digits.read_upload(png(grey, "JPEG"))
    assert np.abs(digits.read_upload(png(grey.convert("CMYK"), "JPEG")) - reference).max() < 0.08


def test_an_upload_is_decoded_once_and_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(digits, "_cache", type(digits._cache)())  # earlier tests' uploads are not counted
    calls = []
    decode = digits.read_image
    monkeypatch.setattr(digits, "read_image", lambda data: calls.append(len(data)) or decode(data))
    data = png(photo_of_a_seven())
    first = digits.read_upload(data)
    first[:] = 0  # the caller's copy: the cached digit is not changed
    again = digits.read_upload(data)
    assert len(calls) == 1 and again.max() > 0.9
    for i in range(digits.CACHE_SIZE + 3):
        digits.read_upload(png(photo_of_a_seven(size=(300 + i, 200))))
    assert len(digits._cache) == digits.CACHE_SIZE
