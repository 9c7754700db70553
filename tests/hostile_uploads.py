"""Hostile uploads for the Your digit page, built as real files, and a meter of the server's memory.

Shared by tests/test_digits.py (the files), tests/faults/test_uploads.py and
benchmarks/upload_memory.py (the files, driven through chromium on /your-digit, with the
server's resident memory sampled while each one is read).
"""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

if TYPE_CHECKING:
    from playwright.sync_api import Page

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MB = 1024 * 1024
GROWTH_BOUND_MB = 100  # issue 18: each hostile upload grows the server's peak RSS by at most this
DIGIT_SHOWN = "As MNIST would store it"  # the caption under a prepared digit on /your-digit


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int) -> bytes:
    """A 1-bit greyscale PNG of side x side white pixels: its rows are compressed a band at a time, so the
    file is small (about 1 KB per 1000 x 1000 pixels) while it declares side * side pixels."""
    row = b"\0" + b"\xff" * ((side + 7) // 8)  # filter byte 0, then the packed pixels
    packer, idat, band = zlib.compressobj(9), [], 1000
    for start in range(0, side, band):
        idat.append(packer.compress(row * min(band, side - start)))
    idat.append(packer.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(idat)) + chunk(b"IEND", b"")


def with_chunks(data: bytes, *chunks: bytes) -> bytes:
    """A PNG with ``chunks`` inserted right after its IHDR chunk (8 signature + 25 IHDR bytes)."""
    return data[:33] + b"".join(chunks) + data[33:]


def encoded(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def seven(size: tuple[int, int] = (300, 200), mode: str = "L", ink=0, paper=255) -> Image.Image:
    """A dark 7 on light paper, its strokes in proportion to the picture."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    width, height = size
    stroke = max(1, round(0.08 * min(size)))
    draw.line([(0.2 * width, 0.2 * height), (0.5 * width, 0.15 * height)], fill=ink, width=stroke)
    draw.line([(0.5 * width, 0.15 * height), (0.37 * width, 0.9 * height)], fill=ink, width=stroke)
    return image


def one_bit_4096() -> bytes:
    """A 4096 x 4096 1-bit PNG of a seven: a few KB on disk, 16.7 million pixels once decoded."""
    return encoded(seven((4096, 4096), mode="1", ink=0, paper=1))


def big_text(text_bytes: int = 1_500_000) -> bytes:
    """A small PNG of a seven carrying one uncompressed iTXt chunk of about ``text_bytes``."""
    return with_chunks(encoded(seven()), chunk(b"iTXt", b"Comment\0\0\0\0\0" + b"x" * text_bytes))


def inflating_text(chunks: int = 40) -> bytes:
    """A PNG of a seven with ``chunks`` zTXt chunks, each about 1 KB that would inflate to 1 MB of text."""
    text = zlib.compress(b"x" * MB, 9)
    return with_chunks(encoded(seven()), *(chunk(b"zTXt", f"k{i}".encode() + b"\0\0" + text) for i in range(chunks)))


def oversized(path: Path, size: int = 150 * MB) -> None:
    """A ``size``-byte file that starts as a PNG (a sparse file: nothing is written past the header)."""
    with open(path, "wb") as handle:
        handle.write(encoded(seven()))
        handle.truncate(size)


@dataclass(frozen=True)
class Hostile:
    """One hostile upload: its file name, how it is written, and the line the page must show."""

    name: str
    write: object  # Path -> None
    expected: str
    reruns: bool = True  # False: the browser refuses it before the server sees it


def bytes_writer(build):
    return lambda path: path.write_bytes(build())


HOSTILE = (
    Hostile("big-text.png", bytes_writer(big_text), "bytes of text, more than the 65,536 this page reads"),
    Hostile("one-bit-4096.png", bytes_writer(one_bit_4096), DIGIT_SHOWN),
    Hostile("bomb-30000.png", bytes_writer(lambda: png_bomb(30000)),
            "is 30000 x 30000 pixels, more than the 16,777,216 this page reads: upload a smaller image"),
    Hostile("inflating-text.png", bytes_writer(inflating_text), DIGIT_SHOWN),
    Hostile("oversized-150mb.png", oversized, "or smaller", reruns=False),
)


class TreeRss:
    """Samples the resident memory of a process and its descendants in a thread; keeps the peak."""

    def __init__(self, pid: int, interval_s: float = 0.01):
        import psutil

        self.process, self.interval_s = psutil.Process(pid), interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def now(self) -> int:
        """The tree's RSS in bytes now (a process that ends between listing and reading counts 0)."""
        import psutil

        total = 0
        for process in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def reset_peak(self) -> int:
        """Start a new peak from the current RSS, which it returns."""
        current = self.now()
        self.peak = current
        return current

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(self.interval_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def upload(page: Page, tracker, rss: TreeRss, path: Path, hostile: Hostile, timeout_ms: float) -> tuple[int, int]:
    """Upload ``path`` on /your-digit, wait for the page to show ``hostile.expected`` and settle;
    (RSS before, peak RSS while it was read), in bytes."""
    from playwright.sync_api import expect

    before = rss.reset_peak()
    finished = tracker.finished
    page.locator("input[type=file]").set_input_files(str(path))
    if hostile.reruns:
        tracker.wait_after(finished, timeout_ms)
    expect(page.get_by_text(hostile.expected).first).to_be_visible(timeout=timeout_ms)
    time.sleep(1.0)  # memory freed late (a collector's pass) still counts against the peak
    return before, rss.peak
