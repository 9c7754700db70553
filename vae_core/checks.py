"""What each file of a checkpoint may declare, held to it before its data is read.

``store`` calls these. Its ``scan`` (behind `vae-explorer list`, the dashboard's sidebar and
Overview) reads headers only: a JSON file's size and nesting, the safetensors header, the
.npy headers inside projections.npz. Data is read when a page or a command needs it, after the
same checks plus a look at the values. Each check raises ``headers.HeaderError`` with a clause
that reads after the file's name ("declares 40,000,000 values in mu ..."); ``store`` adds the
path and the fix.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

from .headers import MAX_NPY_HEADER, ArrayHeader, HeaderError, NpzDirectory, reason

CONFIG_MAX_BYTES = 64 << 10  # a config.json is about 400 bytes
METRICS_MAX_BYTES = 1 << 20  # a metrics.json is about 4 KB
HISTORY_ROW_BYTES = 1024  # one epoch's row is about 270 bytes as `train` writes it (indented)
HISTORY_SLACK_BYTES = 4096
MAX_TEST_IMAGES = 10_000  # the test split of MNIST and of Fashion-MNIST; a smaller test folder gives fewer rows
MAX_TRAIN_IMAGES = 60_000  # their training split (vae_core.train_points)
CLASSES = 10
MAX_ITEM_BYTES = 8  # float64 or int64, the widest type an array of the maps may have
PROJECTION_ARRAYS = ("mu", "labels", "pca", "pca_explained")  # the quick maps: every file has them
TSNE_ARRAYS = ("tsne", "tsne_index")  # added later (the slow map): both or neither; "umap" is optional too
# Per test digit, optional (vae_core.point_stats): negative ELBO and KL in nats, the classifier's top probability on
# the reconstruction. Each is [N] floating point and finite, confidence in [0, 1]; one that is not is left out.
POINT_STATS = ("nelbo", "kl", "confidence")
_FLOATS = ("mu", "pca", "pca_explained", "tsne", "umap")
_INTEGERS = ("labels", "tsne_index")


def history_max_bytes(epochs: int) -> int:
    """The most a history.json of ``epochs`` rows may weigh: checked before it is read."""
    return HISTORY_SLACK_BYTES + epochs * HISTORY_ROW_BYTES


def _most_values(name: str, latent_dim: int) -> int:
    """How many values ``name`` can hold for a full test set: its rows times its columns."""
    if name == "pca_explained":
        return 2
    return MAX_TEST_IMAGES * {"mu": latent_dim, "labels": 1, "tsne_index": 1,
                              **dict.fromkeys(POINT_STATS, 1)}.get(name, 2)


def _bounded_header(directory: NpzDirectory, name: str, latent_dim: int) -> ArrayHeader:
    most = _most_values(name, latent_dim)
    return directory.bounded_header(name, most, f" for at most {MAX_TEST_IMAGES:,} test digits")


def _open_projections(handle: BinaryIO) -> tuple[NpzDirectory, tuple[str, ...]]:
    """The zip directory and the names of the maps it must hold: the quick ones, and t-SNE's pair
    when the file has t-SNE (written before t-SNE is computed, it has neither of the two)."""
    directory = NpzDirectory(handle)
    has_tsne = any(name in directory.sizes for name in TSNE_ARRAYS)
    names = PROJECTION_ARRAYS + (TSNE_ARRAYS if has_tsne else ())
    missing = [name for name in names if name not in directory.sizes]
    if missing:
        raise HeaderError(f"lacks {', '.join(missing)}")
    return directory, names


def projection_sizes(handle: BinaryIO, latent_dim: int) -> None:
    """What listing checks: the headers of mu and labels, and the other members' declared sizes.

    The zip directory and two .npy headers per file keep `vae-explorer list` quick over
    hundreds of checkpoints; ``projection_headers`` checks the rest before anything is read.
    """
    directory, names = _open_projections(handle)
    mu, labels = (_bounded_header(directory, name, latent_dim) for name in ("mu", "labels"))
    if len(mu.shape) != 2 or mu.shape[1] != latent_dim:
        raise HeaderError(f"holds mu of shape {mu.shape}, but the model's latent size is {latent_dim}")
    if labels.shape != (mu.shape[0],):
        raise HeaderError(f"holds labels of shape {labels.shape} for the {mu.shape[0]:,} rows of mu "
                          f"(expected {(mu.shape[0],)})")
    for name in names + tuple(n for n in POINT_STATS if n in directory.sizes):
        most = _most_values(name, latent_dim) * MAX_ITEM_BYTES + MAX_NPY_HEADER
        if directory.sizes[name] > most:
            raise HeaderError(f"declares {directory.sizes[name]:,} bytes in {name} "
                              f"for at most {MAX_TEST_IMAGES:,} test digits")


def projection_headers(handle: BinaryIO, latent_dim: int) -> dict[str, ArrayHeader]:
    """The arrays of an open projections.npz whose headers fit a model of ``latent_dim`` and the test set.

    Sizes are checked first, from the headers alone, so a member that would inflate to gigabytes
    is refused before a byte of it is decompressed. An unusable ``umap`` is left out (the map is
    then offered as not computed), as before this check existed.
    """
    directory, names = _open_projections(handle)
    arrays = {name: _bounded_header(directory, name, latent_dim) for name in names}
    _check_kinds(arrays)
    _check_shapes(arrays, latent_dim)
    if "umap" in directory.sizes:
        try:
            umap = _bounded_header(directory, "umap", latent_dim)
        except HeaderError:
            umap = None
        if umap is not None and umap.shape == (arrays["mu"].shape[0], 2) and umap.dtype.kind == "f":
            arrays["umap"] = umap
    arrays.update(_point_stat_headers(directory, arrays["mu"].shape[0], latent_dim))
    return arrays


def _point_stat_headers(directory: NpzDirectory, rows: int, latent_dim: int) -> dict[str, ArrayHeader]:
    """The headers of the per-digit values (``POINT_STATS``) present that are [rows] floating point; the rest is left
    out (the map then offers to colour by them once `vae-explorer project` has added them)."""
    usable = {}
    for name in (n for n in POINT_STATS if n in directory.sizes):
        try:
            header = _bounded_header(directory, name, latent_dim)
        except HeaderError:
            continue
        if header.shape == (rows,) and header.dtype.kind == "f":
            usable[name] = header
    return usable


def usable_point_stats(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` without the per-digit values that are not finite (or, for confidence, outside [0, 1])."""
    def usable(name: str) -> bool:
        values = arrays[name]
        return bool(np.isfinite(values).all()) and (name != "confidence" or bool(((values >= 0) & (values <= 1)).all()))

    return {name: value for name, value in arrays.items() if name not in POINT_STATS or usable(name)}


def _check_kinds(arrays: dict[str, ArrayHeader]) -> None:
    for name in arrays:
        kind = arrays[name].dtype.kind
        if (name in _FLOATS and kind != "f") or (name in _INTEGERS and kind not in "iu"):
            wanted = "floating-point numbers" if name in _FLOATS else "integers"
            raise HeaderError(f"holds {name} as {arrays[name].dtype}, not {wanted}")


def _check_shapes(arrays: dict[str, ArrayHeader], latent_dim: int) -> None:
    mu = arrays["mu"].shape
    if len(mu) != 2 or mu[1] != latent_dim:
        raise HeaderError(f"holds mu of shape {mu}, but the model's latent size is {latent_dim}")
    rows, expected = mu[0], {"labels": (mu[0],), "pca": (mu[0], 2), "pca_explained": (2,)}
    sampled = 0
    if "tsne_index" in arrays:
        sampled = arrays["tsne_index"].shape[0] if arrays["tsne_index"].shape else 0
        expected.update(tsne=(sampled, 2), tsne_index=(sampled,))
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise HeaderError(f"holds {name} of shape {arrays[name].shape} for the {rows:,} rows of mu "
                              f"(expected {shape})")
    if sampled > rows:
        raise HeaderError(f"holds {sampled:,} t-SNE points for {rows:,} test digits")


def check_projection_values(arrays: dict[str, np.ndarray]) -> None:
    """Finite coordinates, labels of a class, and t-SNE rows that index the test set."""
    for name in _FLOATS:
        if name in arrays and not np.isfinite(arrays[name]).all():
            raise HeaderError(f"holds NaN or inf values in {name}")
    if len(arrays["labels"]) and not (arrays["labels"].min() >= 0 and arrays["labels"].max() < CLASSES):
        raise HeaderError(f"holds labels outside 0-{CLASSES - 1}")
    rows, index = len(arrays["mu"]), arrays.get("tsne_index", np.zeros(0, np.int32))
    if len(index) and not (index.min() >= 0 and index.max() < rows):
        raise HeaderError(f"holds tsne_index values outside the {rows:,} test digits")


def read_projections(handle: BinaryIO, latent_dim: int) -> dict[str, np.ndarray]:
    """The arrays of an open projections.npz, each inflated only after its header passed the checks."""
    import zipfile
    import zlib

    wanted = projection_headers(handle, latent_dim)
    handle.seek(0)
    try:
        with np.load(handle, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in wanted}
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
        raise HeaderError(f"is not a readable .npz archive ({reason(error)})") from error
    check_projection_values(arrays)
    return usable_point_stats(arrays)
