"""A user's images -> one uint8 array at a square size: an image folder (torchvision's ImageFolder layout) or an .npz.

Every file is held to a bound before the work it would cost: an image's pixel count is read from its
header (Pillow's ``Image.open`` reads no pixels), an .npz member's size from its .npy header and zip
entry, so a 100-megapixel PNG or an archive that inflates to gigabytes is refused before anything is
decoded. A file that cannot be used raises ``SourceRefused`` with one line naming it and the fix.
``vae_core.user_data`` splits and stores what these return.
"""

from __future__ import annotations

import os
import stat
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import DataUnavailableError
from .headers import HeaderError, NpzDirectory, reason

MAX_SOURCE_PIXELS = 40_000_000  # one image's width x height, from its header: about 120 MB decoded as RGB
# Images x side x side x 3 after resizing, checked before decoding: 1 GiB of uint8 (MNIST at 28 grey is 55 M).
MAX_VALUES = 1 << 30
MAX_NPZ_BYTES = 1 << 30  # an .npz's images array, inflated: it is loaded whole before it is resized
MAX_CLASSES = 10  # the maps, the replay and the metrics colour and count ten classes (checks.CLASSES)
MAX_CLASS_NAME = 100  # characters
COLOURS = ("auto", "grey", "rgb")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")  # Pillow modes with no colour
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error)


class SourceRefused(DataUnavailableError):
    """An image folder or .npz that cannot be registered; the message names the file and the fix."""


@dataclass(frozen=True)
class Images:
    """What a source holds, at the asked size: images uint8 [N, C, S, S] (C = 1 grey, 3 RGB),
    labels int64 [N] in 0..K-1, class_names [K] (label k at index k)."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    kind: str  # "folder" or "npz"


def read_source(path: Path, side: int, colour: str = "auto") -> Images:
    """An image folder or an .npz file -> ``Images`` at ``side`` x ``side`` pixels in ``colour``.

    Images that are not square are stretched to the square, as torchvision's ``Resize((S, S))`` does.
    Resizing is Pillow's Lanczos filter; an image already at the size keeps its exact pixels.
    """
    path = Path(path)
    if path.is_dir():
        return read_folder(path, side, colour)
    if path.is_file() and path.suffix.lower() == ".npz":
        return read_npz(path, side, colour)
    what = "does not exist" if not path.exists() else "is neither a folder nor an .npz file"
    raise SourceRefused(f"{path} {what}: pass a folder with one subfolder of images per class, or an .npz "
                        "holding images and labels")


# --- image folders ---------------------------------------------------------------------------------------------

def class_files(folder: Path) -> tuple[tuple[str, ...], list[tuple[Path, int]]]:
    """(class names, [(file, label)]): torchvision ImageFolder's order, the subfolders' names sorted, each one's
    files in sorted order, nested folders included. Names starting with '.' are skipped (.DS_Store, .ipynb_checkpoints);
    files directly in ``folder`` belong to no class and are ignored, as ImageFolder ignores them."""
    try:
        classes = sorted(entry.name for entry in os.scandir(folder)
                         if entry.is_dir() and not entry.name.startswith("."))
    except OSError as error:
        raise _unreadable(folder, error) from error
    if not classes:
        raise SourceRefused(f"{folder} holds no class subfolders: put each class's images in a subfolder named after "
                            "the class (torchvision's ImageFolder layout)")
    if len(classes) > MAX_CLASSES:
        raise SourceRefused(f"{folder} holds {len(classes)} class subfolders, more than the {MAX_CLASSES} the maps "
                            "and metrics tell apart: keep at most that many")
    too_long = next((name for name in classes if len(name) > MAX_CLASS_NAME), None)
    if too_long is not None:
        raise SourceRefused(f"{folder / too_long} has a name longer than {MAX_CLASS_NAME} characters: rename it")
    files = []
    for label, name in enumerate(classes):
        found = list(_files_under(folder / name))
        if not found:
            raise SourceRefused(f"{folder / name} holds no images: add some or remove the folder")
        files += [(file, label) for file in found]
    return tuple(classes), files


def _files_under(folder: Path) -> Iterator[Path]:
    """Every file under ``folder`` (symbolic links to folders are not followed), sorted, hidden names skipped."""
    def refuse(error: OSError):
        raise _unreadable(Path(error.filename or folder), error) from error

    for parent, folders, names in os.walk(folder, onerror=refuse):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        yield from (Path(parent) / name for name in sorted(names) if not name.startswith("."))


def _unreadable(path: Path, error: OSError) -> SourceRefused:
    return SourceRefused(f"{path} cannot be read ({error.strerror or reason(error)}): fix its permissions or remove it")


def read_folder(folder: Path, side: int, colour: str = "auto") -> Images:
    """An ImageFolder tree -> ``Images``; every file must be an image Pillow reads, all of one size."""
    classes, files = class_files(folder)
    check_count(len(files), side, folder)
    first: tuple[Path, tuple[int, int]] | None = None
    pictures = []
    for file, _ in files:
        picture, size = decode(file, side, grey=colour == "grey")
        if first is None:
            first = (file, size)
        elif size != first[1]:
            raise SourceRefused(f"{file} is {size[0]} x {size[1]} pixels but {first[0]} is {first[1][0]} x "
                                f"{first[1][1]}: give every image one size")
        pictures.append(picture)
    labels = np.fromiter((label for _, label in files), dtype=np.int64, count=len(files))
    return Images(stack(pictures, side, colour), labels, classes, "folder")


def decode(file: Path, side: int, grey: bool = False) -> tuple[np.ndarray, tuple[int, int]]:
    """One image file -> (uint8 [S, S] grey or [S, S, 3] RGB, its (width, height) on disk).

    The pixel count comes from the header before any pixel is decoded. Grey modes stay grey and
    16-bit grey is scaled, not clipped; alpha is dropped; a palette or colour image becomes RGB
    (or grey by Pillow's ITU-R 601-2 luma when ``grey``). A GIF or TIFF gives its first frame.
    """
    from PIL import Image

    try:
        if not stat.S_ISREG(file.stat().st_mode):
            raise SourceRefused(f"{file} is not a regular file: remove it from the folder")
        with warnings.catch_warnings():  # Pillow warns from 89 megapixels; our own bound is lower and says more
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(file)
    except Image.DecompressionBombError as error:
        raise SourceRefused(f"{file} declares more than {MAX_SOURCE_PIXELS:,} pixels ({reason(error)}): "
                            "shrink it or remove it") from error
    except _DECODE_ERRORS as error:
        if isinstance(error, OSError) and error.errno is not None:  # permission denied, a broken link
            raise _unreadable(file, error) from error
        raise SourceRefused(f"{file} is not an image Pillow reads ({reason(error)}): remove it or replace it") \
            from error
    with image:
        width, height = image.size
        if width * height > MAX_SOURCE_PIXELS:
            raise SourceRefused(f"{file} declares {width} x {height} pixels, more than the {MAX_SOURCE_PIXELS:,} "
                                "an image may have: shrink it or remove it")
        try:
            picture = _pixels(image, side, grey)
        except _DECODE_ERRORS as error:
            raise SourceRefused(f"{file} is not a readable image ({reason(error)}): remove it or replace it") \
                from error
    return picture, (width, height)


def _pixels(image, side: int, grey: bool) -> np.ndarray:
    """A Pillow image, header read -> uint8 [S, S] or [S, S, 3], decoded and resized."""
    from PIL import Image

    if image.format == "JPEG" and min(image.size) > 2 * side:
        image.draft(None, (2 * side, 2 * side))  # decode a large JPEG at a fraction of its size: less to resize
    image.load()
    if image.mode.startswith("I") or image.mode == "F":  # 16-bit (or 32-bit) grey: 65535 is white
        levels = np.asarray(image, dtype=np.float64) * (255.0 / (1.0 if image.mode == "F" else 65535.0))
        image = Image.fromarray(np.clip(np.rint(levels), 0, 255).astype(np.uint8))
    else:
        image = image.convert("L" if grey or image.mode in GREY_MODES else "RGB")
    if image.size != (side, side):
        image = image.resize((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(image)


# --- .npz files --------------------------------------------------------------------------------------------------

def read_npz(path: Path, side: int, colour: str = "auto") -> Images:
    """An .npz with ``images`` ([N, H, W], [N, H, W, C] or [N, C, H, W], C 1 or 3; uint8, or floats in [0, 1]),
    ``labels`` ([N] integers from 0) and optionally ``class_names`` ([K] strings) -> ``Images``.

    Read with ``allow_pickle=False`` after each member's .npy header and zip entry are checked against
    the bounds, so an object array is never unpickled and a bomb is never inflated.
    """
    fix = "save it with numpy.savez(PATH, images=IMAGES, labels=LABELS)"
    try:
        with open(path, "rb") as handle:
            directory = NpzDirectory(handle)
            missing = [name for name in ("images", "labels") if name not in directory.sizes]
            if missing:
                raise HeaderError(f"has no {' or '.join(missing)} array")
            headers = {name: directory.header(name) for name in ("images", "labels", "class_names")
                       if name in directory.sizes}
            for name, header in headers.items():
                declared = header.count * header.dtype.itemsize
                if declared > MAX_NPZ_BYTES:
                    raise HeaderError(f"declares {declared:,} bytes in {name}, more than the {MAX_NPZ_BYTES:,} read")
                if not header.consistent:
                    raise HeaderError(f"declares {declared:,} bytes in {name} but its zip entry holds "
                                      f"{header.stored_bytes:,}")
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in headers}
    except HeaderError as error:
        raise SourceRefused(f"{path} {error}: {fix}") from error
    except (OSError, ValueError, zlib.error, EOFError) as error:
        raise SourceRefused(f"{path} is not a readable .npz archive ({reason(error)}): {fix}") from error
    images = channels_last(arrays["images"], path)
    labels, names = _labels(arrays["labels"], arrays.get("class_names"), len(images), path)
    check_count(len(images), side, path)
    pictures = [_resized(image, side, colour == "grey") for image in _as_uint8(images, path)]
    return Images(stack(pictures, side, colour), labels, names, "npz")


def channels_last(images: np.ndarray, path: Path) -> np.ndarray:
    """images [N, H, W], [N, H, W, C] or [N, C, H, W] -> [N, H, W] or [N, H, W, 3] (C = 1 dropped).

    A four-dimensional array whose last axis is 1 or 3 is channels-last; else its second axis must be."""
    if images.ndim == 4 and images.shape[3] not in (1, 3) and images.shape[1] in (1, 3):
        images = images.transpose(0, 2, 3, 1)
    if images.ndim == 4 and images.shape[3] == 1:
        images = images[..., 0]
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[3] == 3)) or 0 in images.shape:
        raise SourceRefused(f"{path} holds images of shape {images.shape}: store [N, H, W], [N, H, W, C] or "
                            "[N, C, H, W] with C 1 or 3")
    if images.shape[1] * images.shape[2] > MAX_SOURCE_PIXELS:
        raise SourceRefused(f"{path} holds images of {images.shape[2]} x {images.shape[1]} pixels, more than the "
                            f"{MAX_SOURCE_PIXELS:,} an image may have: shrink them")
    return images


def _as_uint8(images: np.ndarray, path: Path) -> Iterator[np.ndarray]:
    """Each image as uint8 [H, W] or [H, W, 3]: uint8 as it is, floats in [0, 1] times 255, rounded."""
    if images.dtype == np.uint8:
        yield from images
        return
    if images.dtype.kind != "f":
        raise SourceRefused(f"{path} holds images of dtype {images.dtype}: store uint8 (0-255) or floats in [0, 1]")
    if not (np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1):
        raise SourceRefused(f"{path} holds image values outside [0, 1] (or NaN): scale them to [0, 1] or store uint8")
    for image in images:
        yield np.rint(image * 255.0).astype(np.uint8)


def _labels(labels: np.ndarray, names: np.ndarray | None, count: int,
            path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """labels [N] integers -> (int64 [N], class names): the .npz's own, else '0', '1', ... up to the largest label."""
    if labels.shape != (count,) or labels.dtype.kind not in "iu":
        raise SourceRefused(f"{path} holds labels of shape {labels.shape} and dtype {labels.dtype} for {count:,} "
                            f"images: store {count:,} integer labels")
    if count and (labels.min() < 0 or labels.max() >= MAX_CLASSES):
        raise SourceRefused(f"{path} holds labels from {labels.min()} to {labels.max()}: use 0 to {MAX_CLASSES - 1} "
                            f"(at most {MAX_CLASSES} classes)")
    classes = int(labels.max()) + 1 if count else 0
    if names is None:
        return labels.astype(np.int64), tuple(str(k) for k in range(classes))
    valid = (names.ndim == 1 and names.dtype.kind == "U" and classes <= len(names) <= MAX_CLASSES
             and all(0 < len(name) <= MAX_CLASS_NAME for name in names.tolist()))
    if not valid or len(set(names.tolist())) != len(names):
        raise SourceRefused(f"{path} holds class_names of shape {names.shape} and dtype {names.dtype}: store one "
                            f"distinct non-empty string per label (at least {classes}, at most {MAX_CLASSES})")
    return labels.astype(np.int64), tuple(names.tolist())


def _resized(image: np.ndarray, side: int, grey: bool) -> np.ndarray:
    """uint8 [H, W] or [H, W, 3] -> [S, S] or [S, S, 3] by Pillow (grey by luma when ``grey``)."""
    if image.shape[:2] == (side, side) and not (grey and image.ndim == 3):
        return image
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image))
    return _pixels(picture.convert("L") if grey else picture, side, grey)


# --- shared ------------------------------------------------------------------------------------------------------

def check_count(count: int, side: int, source: Path) -> None:
    """At least two images (one per split), and at most what ``MAX_VALUES`` allows at ``side`` in RGB."""
    if count < 2:
        raise SourceRefused(f"{source} holds {count} image{'' if count == 1 else 's'}: a data set needs at least two, "
                            "one to train on and one to test")
    if count * side * side * 3 > MAX_VALUES:
        raise SourceRefused(f"{source} holds {count:,} images: at {side} x {side} pixels more than {MAX_VALUES:,} "
                            "values; pass a smaller --size or register fewer images")


def stack(pictures: list[np.ndarray], side: int, colour: str) -> np.ndarray:
    """[S, S] and [S, S, 3] uint8 pictures -> [N, C, S, S]: C = 3 for "rgb", or for "auto" when any picture has
    colour (its channels differ somewhere), else 1. With "grey" every picture is [S, S] already (converted by
    Pillow's luma while decoding); with "auto" and no colour anywhere, an RGB picture's three channels are equal."""
    if colour not in COLOURS:
        raise ValueError(f"colour must be one of {', '.join(COLOURS)}, got {colour!r}")
    coloured = any(p.ndim == 3 and not (np.array_equal(p[..., 0], p[..., 1]) and np.array_equal(p[..., 1], p[..., 2]))
                   for p in pictures)
    channels = 3 if colour == "rgb" or (colour == "auto" and coloured) else 1
    out = np.empty((len(pictures), channels, side, side), dtype=np.uint8)
    for row, picture in enumerate(pictures):
        if channels == 3:
            out[row] = picture.transpose(2, 0, 1) if picture.ndim == 3 else picture
        else:
            out[row, 0] = picture[..., 0] if picture.ndim == 3 else picture
    return out
