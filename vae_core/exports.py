"""What leaves the app as files: the encoded test set (CSV, TensorBoard projector) and figures (PNG, GIF).

The dashboard offers each as a download from the page that shows it; ``vae-explorer export``
writes the same bytes to disk. Nothing here knows about pages or flags.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from .explore import as_pictures, label_font, tile, to_uint8, upscale

ENCODE_BATCH = 2000
MAPS = (("pca", None), ("tsne", "tsne_index"), ("umap", None))  # (array, its test rows when a subset) per map
GIF_FRAME_MS = 120
CLASS_NAMES = {  # the projector's "class" column; digits are their own names
    "fashion-mnist": ("T-shirt", "trouser", "pullover", "dress", "coat",
                      "sandal", "shirt", "sneaker", "bag", "ankle boot"),
}
LABEL_COLOUR, MARKED_COLOUR, BACKGROUND = (230, 230, 230), (255, 176, 0), (89, 89, 89)


class ExportError(ValueError):
    """An export cannot be made as asked; the message names the fix."""


@torch.no_grad()
def encode_test_set(model, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """images [N, C x S x S] (MNIST: [N, 784]) -> (mu [N, D], logvar [N, D]) float32 numpy arrays, in batches."""
    device = next(model.parameters()).device
    parts = [model.encode(images[i:i + ENCODE_BATCH].to(device)) for i in range(0, len(images), ENCODE_BATCH)]
    return (torch.cat([p[0] for p in parts]).cpu().numpy().astype(np.float32),
            torch.cat([p[1] for p in parts]).cpu().numpy().astype(np.float32))


def encoded_table(mu: np.ndarray, logvar: np.ndarray, labels: np.ndarray, projections: dict | None = None):
    """A pyarrow Table: index, label, mu_0.., logvar_0.., then x / y of every cached map.

    mu, logvar [N, D]; labels [N]; ``projections`` as ``vae_core.projections.load_projections``
    returns them. A map of a subset (t-SNE) leaves the other rows empty.
    """
    import pyarrow as pa

    count, dims = np.asarray(mu).shape
    if np.asarray(logvar).shape != (count, dims) or len(labels) != count:
        raise ExportError(f"mu, logvar and labels disagree in size: {np.shape(mu)}, {np.shape(logvar)}, "
                          f"{len(labels)}")
    columns = {"index": pa.array(np.arange(count, dtype=np.int32)),
               "label": pa.array(np.asarray(labels, dtype=np.int16))}
    columns.update({f"mu_{d}": pa.array(np.asarray(mu[:, d], dtype=np.float32)) for d in range(dims)})
    columns.update({f"logvar_{d}": pa.array(np.asarray(logvar[:, d], dtype=np.float32)) for d in range(dims)})
    for name, rows in MAPS:
        if projections is None or name not in projections or len(projections["mu"]) != count:
            continue
        coordinates = np.full((count, 2), np.nan, dtype=np.float32)
        index = np.arange(count) if rows is None else np.asarray(projections[rows])
        coordinates[index] = projections[name]
        for axis, letter in enumerate("xy"):
            columns[f"{name}_{letter}"] = pa.array(coordinates[:, axis], mask=np.isnan(coordinates[:, axis]))
    return pa.table(columns)


def test_set_csv(mu: np.ndarray, logvar: np.ndarray, labels: np.ndarray, projections: dict | None = None) -> bytes:
    """The encoded test set as CSV bytes (see ``encoded_table``); floats keep every float32 digit.

    pyarrow's writer: pandas' ``to_csv`` of 10,000 rows x 100 floats is several times slower.
    """
    import pyarrow.csv as csv

    table = encoded_table(mu, logvar, labels, projections)
    buffer = io.BytesIO()
    buffer.write((",".join(table.column_names) + "\n").encode())  # plain names: pyarrow would quote them
    csv.write_csv(table, buffer, csv.WriteOptions(include_header=False, quoting_style="needed"))
    return buffer.getvalue()


def write_projector(directory: Path, mu: np.ndarray, labels: np.ndarray, images: np.ndarray | torch.Tensor,
                    class_names: tuple[str, ...] | None = None, tag: str = "test_set_means") -> Path:
    """A TensorBoard projector log in ``directory``: vectors mu [N, D], labels [N], images as the sprite (in any layout
    of ``explore.as_pictures``: a split's [N, C x S x S], [N, S, S] grey, [N, S, S, 3] in colour).

    Written by ``torch.utils.tensorboard.SummaryWriter.add_embedding``; open it with
    ``tensorboard --logdir DIRECTORY`` (Projector tab). Returns ``directory``.
    """
    from torch.utils.tensorboard import SummaryWriter

    labels = [int(k) for k in np.asarray(labels)]
    names = class_names or tuple(str(k) for k in range(10))
    sprite = _channels_first(as_pictures(np.asarray(images, dtype=np.float32)))
    writer = SummaryWriter(log_dir=str(directory))
    try:
        writer.add_embedding(torch.as_tensor(np.asarray(mu, dtype=np.float32)),
                             metadata=[[str(k), names[k]] for k in labels], metadata_header=["label", "class"],
                             label_img=sprite, tag=tag)
    finally:
        writer.close()
    return Path(directory)


def projector_zip(mu: np.ndarray, labels: np.ndarray, images, class_names: tuple[str, ...] | None = None,
                  folder: str = "projector") -> bytes:
    """``write_projector`` into a temporary folder, returned as zip bytes whose entries start with ``folder/``."""
    import tempfile
    import zipfile

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as temporary:
        root = write_projector(Path(temporary) / folder, mu, labels, images, class_names)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root.parent).as_posix())
    return buffer.getvalue()


def rows_png(images: np.ndarray, row_labels: list[str] | None = None, column_labels: list[str] | None = None,
             marked: set[int] | frozenset[int] = frozenset(), factor: int = 2) -> bytes:
    """images [R, C, S, S] (RGB [R, C, S, S, 3]) in [0, 1] -> one PNG: R rows of C digits, labels left of rows and
    above columns.

    Rows in ``marked`` (e.g. collapsed dimensions) get an amber label and a bar down their left edge.
    """
    from PIL import Image, ImageDraw

    images = np.asarray(images, dtype=np.float32)
    rows, columns = images.shape[:2]
    side, pad, font_size = images.shape[2] * factor, 2, max(11, 6 * factor)
    font = label_font(font_size)
    left = 0 if row_labels is None else max(int(font.getlength(t)) for t in row_labels) + 14
    top = 0 if column_labels is None else font_size + 8
    canvas = Image.new("RGB", (left + columns * (side + pad) + pad, top + rows * (side + pad) + pad), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for c, text in enumerate(column_labels or []):
        half = font.getlength(text) / 2 + pad  # a label wider than its digit stays inside the picture
        x = min(max(left + pad + c * (side + pad) + side / 2, half), canvas.width - half)
        draw.text((x, top - 4), text, fill=LABEL_COLOUR, font=font, anchor="ms")
    for r in range(rows):
        y = top + pad + r * (side + pad)
        for c in range(columns):
            digit = Image.fromarray(upscale(to_uint8(images[r, c]), factor)).convert("RGB")
            canvas.paste(digit, (left + pad + c * (side + pad), y))
        if row_labels is not None:
            colour = MARKED_COLOUR if r in marked else LABEL_COLOUR
            draw.text((left - 8, y + side / 2), row_labels[r], fill=colour, font=font, anchor="rm")
            if r in marked:
                draw.rectangle([left - 5, y, left - 2, y + side - 1], fill=MARKED_COLOUR)
    return _png(canvas)


def strip_png(images: np.ndarray, labels: list[str] | None = None, factor: int = 3) -> bytes:
    """images [C, S, S] (RGB [C, S, S, 3]) -> one labelled row (``rows_png`` with a single row)."""
    return rows_png(np.asarray(images)[None], None, labels, factor=factor)


def grid_png(images: np.ndarray, columns: int, factor: int = 3) -> bytes:
    """images in [0, 1] ([N, S, S], [N, S, S, 3], flattened: ``explore.tile``) -> a plain tiled PNG, ``columns``
    per row."""
    from PIL import Image

    return _png(Image.fromarray(upscale(tile(images, columns), factor)))


def gif_bytes(frames: np.ndarray, factor: int = 3, frame_ms: int = GIF_FRAME_MS, bounce: bool = True) -> bytes:
    """frames [T, H, W] grey or [T, H, W, 3] RGB in [0, 1] (or uint8) -> an endlessly looping GIF.

    ``bounce`` plays the frames forward then back, so a walk returns smoothly to its start.
    """
    from PIL import Image

    frames = np.asarray(frames)
    if len(frames) < 2:
        raise ExportError(f"an animation needs at least 2 frames, got {len(frames)}")
    pixels = frames if frames.dtype == np.uint8 else to_uint8(frames)
    order = list(range(len(pixels))) + (list(range(len(pixels) - 2, 0, -1)) if bounce else [])
    pictures = [Image.fromarray(upscale(pixels[i], factor)) for i in order]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


def strip_gif(images: np.ndarray, factor: int = 6) -> bytes:
    """A strip [T, S, S] or [T, S, S, 3] (interpolation, morph, direction) as an animation of its digits, one per
    frame."""
    return gif_bytes(np.asarray(images), factor)


def rows_gif(images: np.ndarray, columns: int | None = None, factor: int = 3) -> bytes:
    """images [R, C, S, S] or [R, C, S, S, 3] (a traversal) -> frame c tiles column c of every row: all dimensions
    move at once."""
    images = np.asarray(images, dtype=np.float32)
    per_row = columns or min(len(images), 10)
    return gif_bytes(np.stack([tile(images[:, c], per_row) for c in range(images.shape[1])]), factor)


def _channels_first(pictures: np.ndarray) -> torch.Tensor:
    """Pictures [N, S, S] or [N, S, S, 3] -> [N, C, S, S], the layout TensorBoard's sprite takes."""
    tensor = torch.as_tensor(pictures)
    return tensor.unsqueeze(1) if tensor.dim() == 3 else tensor.permute(0, 3, 1, 2).contiguous()


def _png(picture) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
