"""The training digits on the test set's maps: their means, places and per-digit values, cached beside the checkpoint.

The Latent map shows the 10,000 test digits; asked for every point, it adds the 60,000 training digits, read from
``train-points.npz`` (written by `vae-explorer project`, by `train` and by a Train page job after their maps):
``mu`` [N, D] float16, ``labels`` [N] int8, ``tsne`` and ``umap`` [N, 2] float32, the ``point_stats`` values [N]
float16, and ``anchors`` [4, 8] uint8: a digest of the test map each training map was placed on (mu, pca, tsne,
umap), so that a map recomputed later is never paired with places made for the old one. Read back (``load``), it is
laid out as projections.npz: the PCA places follow from the means (exactly, so they are not stored: 0.45 MB a model)
and ``tsne_index`` covers every training digit.

How the training digits are placed, since the maps were fitted on the test means alone:

- PCA: exactly, by the same linear map (fitted by least squares from the cached test means to their PCA, which
  recovers the axes to float16 precision and needs nothing the file does not keep). A 2-D latent space is drawn
  in its own coordinates, so its training means need no placing at all.
- t-SNE and UMAP: at the inverse-distance weighted mean of the places of the ``NEIGHBOURS`` nearest test means
  (in the full latent space) that the map covers. umap-learn's own ``transform`` starts new points this way before
  optimising them; t-SNE has no transform. The page says that the training digits were placed, not fitted.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .checks import MAX_TRAIN_IMAGES, POINT_STATS
from .headers import HeaderError

if TYPE_CHECKING:  # the maps' page reads these files without torch
    import torch

TRAIN_POINTS_FILE = "train-points.npz"
NEIGHBOURS = 5  # test means whose places a training mean's place is weighted from
MAPS = ("mu", "pca", "tsne", "umap")  # the rows of ``anchors``
STEP = "training digits"  # its name among the map steps (``map_progress``): the job's progress, the timings
QUERY_BATCH = 4096  # training means per nearest-neighbour query: 4096 x 10,000 distances are 330 MB as float64


def anchor(array: np.ndarray | None) -> np.ndarray:
    """8 bytes that name ``array``'s values (uint8 [8]); zeros for a map that is absent."""
    if array is None:
        return np.zeros(8, dtype=np.uint8)
    digest = hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=8).digest()
    return np.frombuffer(digest, dtype=np.uint8).copy()


def test_anchors(test: dict[str, np.ndarray]) -> np.ndarray:
    """The anchors [4, 8] of the test maps in ``test`` (a projections dict): what training places are placed on."""
    tsne = None if "tsne" not in test else np.concatenate([test["tsne"].ravel(), test["tsne_index"].astype(np.float32)])
    return np.stack([anchor(test["mu"]), anchor(test["pca"]), anchor(tsne), anchor(test.get("umap"))])


def linear_fit(test_mu: np.ndarray, test_xy: np.ndarray, train_mu: np.ndarray) -> np.ndarray:
    """Train means [N, D] -> places [N, 2] by the affine map that takes the test means [M, D] to ``test_xy`` [M, 2]."""
    design = np.hstack([test_mu.astype(np.float64), np.ones((len(test_mu), 1))])
    weights, *_ = np.linalg.lstsq(design, test_xy.astype(np.float64), rcond=None)
    return (np.hstack([train_mu.astype(np.float64), np.ones((len(train_mu), 1))]) @ weights).astype(np.float32)


def nearest_places(test_mu: np.ndarray, test_xy: np.ndarray, train_mu: np.ndarray,
                   neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Train means [N, D] -> places [N, 2]: the inverse-distance weighted mean of the places ``test_xy`` [M, 2] of
    their ``neighbours`` nearest test means [M, D] (a mean that equals a test mean takes its place)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(neighbours, len(test_mu))
    search = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(test_mu.astype(np.float32))
    places = np.empty((len(train_mu), 2), dtype=np.float32)
    for start in range(0, len(train_mu), QUERY_BATCH):
        distances, indices = search.kneighbors(train_mu[start:start + QUERY_BATCH].astype(np.float32))
        weights = 1.0 / np.maximum(distances, 1e-6)
        weights /= weights.sum(axis=1, keepdims=True)
        places[start:start + QUERY_BATCH] = np.einsum("nk,nkc->nc", weights, test_xy[indices])
    return places


def place(test: dict[str, np.ndarray], train_mu: np.ndarray) -> dict[str, np.ndarray]:
    """The training means' places on the slow test maps that ``test`` holds: tsne and umap [N, 2] (PCA's follow
    from the means when the file is read: ``pca_places``)."""
    test_mu = np.asarray(test["mu"], dtype=np.float32)
    placed = {}
    if "tsne" in test:
        placed["tsne"] = nearest_places(test_mu[test["tsne_index"]], test["tsne"], train_mu)
    if "umap" in test:
        placed["umap"] = nearest_places(test_mu, test["umap"], train_mu)
    return placed


def pca_places(test: dict[str, np.ndarray], train_mu: np.ndarray) -> np.ndarray:
    """The training means' places [N, 2] on the test set's PCA map: the same linear map, exactly (``linear_fit``)."""
    return linear_fit(np.asarray(test["mu"], dtype=np.float32), test["pca"], np.asarray(train_mu, np.float32))


def compute(model, train_images: torch.Tensor, train_labels: torch.Tensor, test: dict[str, np.ndarray],
            classifier=None, report: Callable[[str], None] | None = None) -> dict[str, np.ndarray]:
    """Encode the training digits (images [N, 784] in [0, 1], labels [N]), place them on the test maps, and compute
    their per-digit values: the arrays of ``TRAIN_POINTS_FILE``. ``report`` hears the time of each step."""
    from .point_stats import point_stats
    from .projections import encode_means

    def timed(what: str, work: Callable[[], dict]) -> dict:
        started = time.perf_counter()
        result = work()
        if report is not None:
            report(f"{what} of {len(train_labels):,} training digits: {time.perf_counter() - started:.1f} s")
        return result

    mu = timed("means", lambda: {"mu": encode_means(model, train_images).numpy().astype(np.float16)})["mu"]
    arrays = {"mu": mu, "labels": train_labels.numpy().astype(np.int8)}
    arrays |= timed("places", lambda: place(test, mu.astype(np.float32)))
    stats = timed("per-digit values", lambda: point_stats(model, train_images, classifier))
    arrays |= {name: values.astype(np.float16) for name, values in stats.items()}  # colours need no more
    return arrays | {"anchors": test_anchors(test)}


def read(handle, latent_dim: int, test: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """The training digits of an open ``TRAIN_POINTS_FILE``, laid out as projections.npz (with ``pca`` from the
    means, ``tsne_index`` all of them): each array bounded by its header before it is inflated, then checked for
    finite values and classes. A map placed on another test map is left out; None when the means belong to another
    model. ``HeaderError`` when the file breaks a bound."""
    wanted = _bounded_headers(handle, latent_dim)
    handle.seek(0)
    with np.load(handle, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in wanted}
    anchors, current = arrays.pop("anchors"), test_anchors(test)
    if not np.array_equal(anchors[0], current[0]):
        return None
    for row, name in enumerate(MAPS[1:], start=1):
        if not np.array_equal(anchors[row], current[row]):
            arrays.pop(name, None)
    _check_values(arrays)
    arrays |= {"pca": pca_places(test, arrays["mu"]), "pca_explained": test["pca_explained"]}
    if "tsne" in arrays:
        arrays["tsne_index"] = np.arange(len(arrays["mu"]), dtype=np.int32)
    return arrays


def _bounded_headers(handle, latent_dim: int) -> list[str]:
    """The members to read: every one declared within ``MAX_TRAIN_IMAGES`` rows and of the shape and kind it must
    have (mu [N, D], labels [N] integers, tsne / umap [N, 2], the per-digit values [N], anchors [4, 8] uint8)."""
    from .headers import NpzDirectory

    directory, bound = NpzDirectory(handle), f" for at most {MAX_TRAIN_IMAGES:,} training digits"
    mu = directory.bounded_header("mu", MAX_TRAIN_IMAGES * latent_dim, bound)
    rows = mu.shape[0] if len(mu.shape) == 2 else -1
    expected = {"mu": ((rows, latent_dim), "f"), "labels": ((rows,), "iu"), "anchors": ((len(MAPS), 8), "u"),
                **{name: ((rows, 2), "f") for name in ("tsne", "umap")},
                **{name: ((rows,), "f") for name in POINT_STATS}}
    present = [name for name in expected if name in directory.sizes]
    for name in ("mu", "labels", "anchors"):
        if name not in present:
            raise HeaderError(f"lacks {name}")
    for name in present:
        shape, kinds = expected[name]
        header = directory.bounded_header(name, max(1, MAX_TRAIN_IMAGES * math.prod(shape[1:])), bound)
        if header.shape != shape or header.dtype.kind not in kinds:
            raise HeaderError(f"holds {name} of shape {header.shape} as {header.dtype} (expected {shape})")
    return present


def _check_values(arrays: dict[str, np.ndarray]) -> None:
    from .checks import CLASSES

    for name, values in arrays.items():
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise HeaderError(f"holds NaN or inf values in {name}")
    labels = arrays["labels"]
    if len(labels) and not (labels.min() >= 0 and labels.max() < CLASSES):
        raise HeaderError(f"holds labels outside 0-{CLASSES - 1}")


def joined(test: dict[str, np.ndarray], train: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Test and training digits as one projections dict (test rows 0..M-1, then the training digits): the maps,
    means and per-digit values that both have; ``train_from`` [1] says where the training rows start."""
    rows = len(test["mu"])
    out = {"mu": np.concatenate([test["mu"], train["mu"]]), "labels": np.concatenate([test["labels"], train["labels"]]),
           "pca": np.concatenate([test["pca"], train["pca"]]), "pca_explained": test["pca_explained"],
           "train_from": np.array([rows])}
    if "tsne" in test and "tsne" in train:
        out["tsne"] = np.concatenate([test["tsne"], train["tsne"]])
        out["tsne_index"] = np.concatenate([test["tsne_index"], rows + train["tsne_index"]]).astype(np.int32)
    for name in ("umap", *POINT_STATS):
        if name in test and name in train:
            out[name] = np.concatenate([test[name], train[name]])
    return out


def cached(checkpoint) -> bool:
    """Whether ``TRAIN_POINTS_FILE`` is there (a stat, nothing read): the map offers every digit then."""
    return (checkpoint.path / TRAIN_POINTS_FILE).is_file()


def load(checkpoint, test: dict[str, np.ndarray] | None) -> dict[str, np.ndarray] | None:
    """The training digits of ``checkpoint`` placed on its test maps ``test``, or None: not computed, computed for
    other means, or unusable (`vae-explorer project` writes it again)."""
    if test is None:
        return None
    try:
        with open(checkpoint.path / TRAIN_POINTS_FILE, "rb") as handle:
            return read(handle, checkpoint.model_config.latent_dim, test)
    except FileNotFoundError:
        return None
    except (OSError, HeaderError, ValueError, KeyError):
        return None


def complete(train: dict[str, np.ndarray] | None, test: dict[str, np.ndarray], confidence: bool = True) -> bool:
    """Whether ``train`` has a place on every map ``test`` has and every per-digit value it has (the classifier's
    confidence only with ``confidence``: it needs the classifier beside the checkpoint)."""
    wanted = ("tsne", "umap", *(name for name in POINT_STATS if confidence or name != "confidence"))
    return train is not None and all(name in train for name in wanted if name in test)


def ensure(checkpoint, train_split: Callable[[], object], device: str | None = None,
           report: Callable[[str], None] = print, force: bool = False) -> bool:
    """Write ``TRAIN_POINTS_FILE`` unless it is complete for the cached test maps (always with ``force``); whether
    it was written. ``train_split`` (a ``data.Split``) is called only when something is computed; without cached
    test maps there is nothing to place on. The time it took is kept as the step ``STEP`` (the Train page's plan)."""
    from .map_progress import record_time
    from .point_stats import find_classifier
    from .projections import load_projections
    from .store import load_model, write_arrays_artifact
    from .train import pick_device

    test = load_projections(checkpoint)
    if test is None:
        return False
    classifier = find_classifier(checkpoint.path.parent, checkpoint.train_config.dataset) \
        if "confidence" in test else None
    if not force and complete(load(checkpoint, test), test, confidence=classifier is not None):
        return False
    started = time.perf_counter()
    where = pick_device(device)
    split = train_split()
    arrays = compute(load_model(checkpoint, where), split.images, split.labels, test,
                     None if classifier is None else classifier.to(where),
                     lambda line: report(f"{checkpoint.name}: {line}"))
    write_arrays_artifact(checkpoint, TRAIN_POINTS_FILE, arrays)
    record_time(checkpoint.path.parent, STEP, time.perf_counter() - started)
    report(f"{checkpoint.name}: {len(arrays['mu']):,} training digits placed on its maps ({TRAIN_POINTS_FILE})")
    return True


def train_from(arrays: dict) -> int | None:
    """Where the training rows of ``joined`` arrays start; None for the test digits alone."""
    return int(arrays["train_from"][0]) if "train_from" in arrays else None
