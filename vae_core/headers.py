"""Bounded readers for files anyone could have put in a checkpoint folder.

A damaged or hostile file must cost no more than the file it claims to be: JSON nested
200,000 deep or holding a 5,000-digit integer, a safetensors file whose header declares
gigabytes over a sparse hole, an .npz whose members inflate from kilobytes to gigabytes.
Each reader here takes what a header declares (a JSON file's size and depth, a safetensors
header, the .npy headers and declared sizes inside a zip) and checks it against a bound the
caller states before any data is parsed, decompressed or allocated. A file that breaks one
raises ``HeaderError`` whose message is one clause saying what the file declares; the caller
adds the file's name and the fix. No checkpoint knowledge lives here (see ``vae_core.checks``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

MAX_JSON_DEPTH = 32  # our files nest 3 levels at most; far below the parser's recursion limit
MAX_INT_DIGITS = 20  # 2**64 has 20 digits (any seed or count we write); more cannot become a float safely
MAX_SAFETENSORS_HEADER = 1 << 20  # a VAE's dozen tensors need about 1 KB of header
MAX_NPY_HEADER = 10_000  # numpy's own default bound on an .npy header
MAX_NPZ_MEMBERS = 16  # the projections hold 7 arrays
FLOAT_DTYPES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}  # safetensors dtypes that weights may have
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')  # a JSON string, escapes included: its brackets do not nest
_LONG_DIGITS = re.compile(rf"\d{{{MAX_INT_DIGITS + 1}}}")


class HeaderError(ValueError):
    """A file breaks a stated bound or is not of its kind; the message says what it declares."""


def reason(error: BaseException) -> str:
    """A library's error text as a short clause on one line (some span several)."""
    return " ".join(str(error).split())[:80]


@dataclass(frozen=True)
class TensorHeader:
    """One tensor of a safetensors header: its dtype, shape and byte range in the data section."""

    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class ArrayHeader:
    """One member of an .npz: the shape and dtype its .npy header declares."""

    shape: tuple[int, ...]
    dtype: np.dtype
    stored_bytes: int  # what the zip entry declares after the .npy header: the data inflates to this

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def consistent(self) -> bool:
        """Whether the zip entry holds exactly the data the .npy header declares."""
        return self.stored_bytes == self.count * self.dtype.itemsize


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading; a FIFO or device named like our file is refused, not read forever."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise HeaderError("is not a regular file")
    return handle


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise HeaderError(f"holds an integer of {digits:,} digits")
    return int(text)


def json_depth(text: str, limit: int) -> int:
    """How deep ``text``'s arrays and objects nest, counting no further than ``limit`` + 1."""
    depth = deepest = 0
    for char in re.sub(r"[^\[\]{}]", "", _JSON_STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


def parse_json(text: str, max_depth: int = MAX_JSON_DEPTH) -> object:
    """``json.loads`` after a depth check, with integers of at most ``MAX_INT_DIGITS`` digits."""
    opening = text.count("[") + text.count("{")  # more containers than that cannot nest deeper
    if opening > max_depth and json_depth(text, max_depth) > max_depth:
        raise HeaderError(f"is nested more than {max_depth} levels deep")
    # Only a text with a long run of digits can hold a long integer: the rest parse at full speed.
    parse_int = _bounded_int if _LONG_DIGITS.search(text) else None
    try:
        return json.loads(text, parse_int=parse_int)
    except json.JSONDecodeError as error:
        raise HeaderError(f"is not valid JSON ({reason(error)})") from error
    except RecursionError as error:  # not reached after the depth check; kept as the parser's last word
        raise HeaderError("is nested too deeply") from error


def read_json(path: Path, max_bytes: int, what: str = "", max_depth: int = MAX_JSON_DEPTH) -> object:
    """The JSON in ``path``, read only when it holds at most ``max_bytes`` (``what`` says whose bound)."""
    with _open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        raw = handle.read(max_bytes + 1) if size <= max_bytes else b""
    if size > max_bytes or len(raw) > max_bytes:
        raise HeaderError(f"is {max(size, len(raw)):,} bytes, more than the {max_bytes:,} {what or 'it may hold'}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HeaderError("is not UTF-8 text") from error
    return parse_json(text, max_depth)


def safetensors_header(path: Path) -> dict[str, TensorHeader]:
    """The tensors a safetensors file declares, checked to tile its data section exactly.

    Reads the 8-byte length and the JSON header only, so a sparse file that declares
    gigabytes costs what its header costs.
    """
    with _open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < 8:
            raise HeaderError(f"holds {size} bytes, fewer than the 8 of a header length")
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > min(MAX_SAFETENSORS_HEADER, size - 8):
            raise HeaderError(f"declares a header of {length:,} bytes in a file of {size:,}")
        raw = handle.read(length)
    try:
        header = parse_json(raw.decode("utf-8"), max_depth=4)
    except UnicodeDecodeError as error:
        raise HeaderError("has a header that is not UTF-8 text") from error
    if not isinstance(header, dict):
        raise HeaderError("has a header that is not a JSON object")
    tensors = {name: _tensor_header(name, entry) for name, entry in header.items() if name != "__metadata__"}
    _check_tiling(tensors, size - 8 - length)
    return tensors


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tensor_header(name: str, entry: object) -> TensorHeader:
    if not isinstance(entry, dict):
        raise HeaderError(f"declares {name} as {type(entry).__name__}, not a tensor")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in FLOAT_DTYPES:
        raise HeaderError(f"declares {name} of dtype {dtype!r}, not a floating-point type")
    valid = (isinstance(shape, list) and all(map(_is_count, shape)) and isinstance(offsets, list)
             and len(offsets) == 2 and all(map(_is_count, offsets)) and offsets[0] <= offsets[1])
    if not valid:
        raise HeaderError(f"declares {name} with a malformed shape or byte range")
    if offsets[1] - offsets[0] != math.prod(shape) * FLOAT_DTYPES[dtype]:
        raise HeaderError(f"declares {name} of shape {tuple(shape)} over {offsets[1] - offsets[0]:,} bytes")
    return TensorHeader(dtype, tuple(shape), offsets[0], offsets[1])


def _check_tiling(tensors: dict[str, TensorHeader], data_bytes: int) -> None:
    """The tensors cover the data section end to end, as safetensors' own loader demands."""
    position = 0
    for tensor in sorted(tensors.values(), key=lambda t: (t.start, t.end)):
        if tensor.start != position:
            raise HeaderError("declares tensors that overlap or leave gaps")
        position = tensor.end
    if position != data_bytes:
        raise HeaderError(f"declares {position:,} bytes of tensor data but holds {data_bytes:,}")


@contextlib.contextmanager
def _zip_errors() -> Iterator[None]:
    """Whatever zipfile or numpy raise on a damaged archive, as one ``HeaderError``."""
    try:
        yield
    except HeaderError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError) as error:  # RuntimeError: an encrypted member
        raise HeaderError(f"is not a readable .npz archive ({reason(error)})") from error


class NpzDirectory:
    """An open .npz's zip directory: each member's declared size, and its .npy header on request.

    Reading the directory inflates nothing; ``header`` inflates a member's first bytes only. A
    caller bounds an array's ``count`` and then checks it is ``consistent``, so neither the .npy
    header nor the zip entry can under-state the other.
    """

    def __init__(self, handle: BinaryIO):
        with _zip_errors():
            self._archive = zipfile.ZipFile(handle)
            members = self._archive.infolist()
        if len(members) > MAX_NPZ_MEMBERS:
            raise HeaderError(f"holds {len(members):,} members, more than the {MAX_NPZ_MEMBERS} it may")
        self._members = {member.filename.removesuffix(".npy"): member for member in members}
        self.sizes = {name: member.file_size for name, member in self._members.items()}  # declared, inflated

    def header(self, name: str) -> ArrayHeader:
        """The .npy header of member ``name``; Python objects are refused here, never unpickled."""
        member = self._members[name]
        with _zip_errors(), self._archive.open(member) as stream:
            version = np.lib.format.read_magic(stream)
            if version not in ((1, 0), (2, 0)):
                raise HeaderError(f"holds {name} in .npy format version {version[0]}.{version[1]}")
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(stream, max_header_size=MAX_NPY_HEADER)
            header_bytes = stream.tell()
        if dtype.hasobject:
            raise HeaderError(f"holds {name} as Python objects, which are never unpickled")
        return ArrayHeader(tuple(shape), dtype, member.file_size - header_bytes)

    def bounded_header(self, name: str, most: int, bound: str) -> ArrayHeader:
        """``header(name)``, refused when it declares more than ``most`` values (``bound`` ends the message
        with whose limit: ' for at most 10,000 test digits') or when its zip entry holds other than it declares."""
        header = self.header(name)
        if header.count > most:
            raise HeaderError(f"declares {header.count:,} values in {name}{bound}")
        if not header.consistent:
            raise HeaderError(f"declares {header.count:,} values in {name} but its zip entry holds "
                              f"{header.stored_bytes:,} bytes of data")
        return header
