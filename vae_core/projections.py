"""2-D maps of the encoded test set, computed once per checkpoint and cached beside it.

PCA of all test means takes well under a second; t-SNE of the default 5,000 of them takes
tens of seconds per model on two cores (``tsne_description`` says what decides its cost), and
UMAP of all of them a few seconds once numba has compiled it, which costs tens of seconds in
every new process. So neither runs inside a dashboard rerun (the app never imports umap):
``vae-explorer project`` (and ``train``) writes ``projections.npz``, prints the time each
slow map took, and the app reads the file.

UMAP arrived after the first files were written: its arrays are optional, a file without
them still loads, and ``add_umap`` completes such a file from its cached means alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from .data import Split
from .defaults import DEFAULT_TSNE_POINTS, TSNE_ITERATIONS, TSNE_PERPLEXITY, tsne_description  # noqa: F401
from .models import VariationalAutoencoder
from .store import PROJECTIONS_FILE, Checkpoint, CheckpointError, read_projections, write_arrays_artifact

# What t-SNE's time depends on (sklearn's Barnes-Hut method): the number of points, the perplexity
# (each point's neighbours number about 3 x perplexity), the iterations, and the cores it gets.
ENCODE_BATCH = 2000
UMAP_NEIGHBOURS = 15  # umap-learn's default: the size of the neighbourhood each point keeps
_umap_compiled = False  # numba compiles UMAP's kernels on the first call of each process


@torch.no_grad()
def encode_means(model: VariationalAutoencoder, images: torch.Tensor) -> torch.Tensor:
    """images [N, 784] -> posterior means mu [N, D] (on CPU)."""
    device = next(model.parameters()).device
    chunks = [model.encode(images[i:i + ENCODE_BATCH].to(device))[0].cpu()
              for i in range(0, len(images), ENCODE_BATCH)]
    return torch.cat(chunks)


def pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """points [N, D] -> (coordinates [N, 2], explained variance ratio [2]); D = 1 pads a zero."""
    from sklearn.decomposition import PCA

    if points.shape[1] == 1:
        return np.hstack([points, np.zeros_like(points)]), np.array([1.0, 0.0])
    pca = PCA(n_components=2, random_state=0).fit(points)
    return pca.transform(points), pca.explained_variance_ratio_


def tsne_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """points [M, D] -> t-SNE coordinates [M, 2] (sklearn, PCA init, the settings above)."""
    from sklearn.manifold import TSNE

    tsne = TSNE(n_components=2, init="pca", learning_rate="auto", perplexity=TSNE_PERPLEXITY, random_state=seed)
    iterations = "max_iter" if "max_iter" in tsne.get_params() else "n_iter"  # renamed in scikit-learn 1.5
    return tsne.set_params(**{iterations: TSNE_ITERATIONS}).fit_transform(points)


def umap_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """points [N, D] -> UMAP coordinates [N, 2] (umap-learn; seeded, hence single-threaded and repeatable)."""
    import warnings

    import umap

    reducer = umap.UMAP(n_components=2, n_neighbors=min(UMAP_NEIGHBOURS, len(points) - 1), random_state=seed,
                        n_jobs=1)
    with warnings.catch_warnings():  # e.g. "n_jobs overridden by random_state": chosen, not a surprise
        warnings.simplefilter("ignore", UserWarning)
        return reducer.fit_transform(points)


def add_umap(arrays: dict[str, np.ndarray], seed: int = 0,
             report: Callable[[str], None] | None = None) -> dict[str, np.ndarray]:
    """The projections plus ``umap`` [N, 2] float32, mapped from the cached means ``mu`` [N, D].

    It reads the float16 means that the file keeps, so adding UMAP to an older file gives the
    same map as computing every projection afresh. ``report`` hears the measured time.
    """
    global _umap_compiled
    started = time.perf_counter()
    coordinates = umap_2d(np.asarray(arrays["mu"], dtype=np.float32), seed)
    if report is not None:
        note = "" if _umap_compiled else " (the first in this process: includes numba's compile)"
        report(f"UMAP of {len(coordinates):,} test means: {time.perf_counter() - started:.1f} s{note}")
    _umap_compiled = True
    return {**arrays, "umap": coordinates.astype(np.float32)}


def compute_projections(model: VariationalAutoencoder, test_split: Split, tsne_points: int = DEFAULT_TSNE_POINTS,
                        seed: int = 0, report: Callable[[str], None] | None = None,
                        umap: bool = True) -> dict[str, np.ndarray]:
    """Encode the whole test set; PCA and UMAP of all means, t-SNE of a fixed random subset.

    Returns arrays: mu [N, D] float16 (enough to decode and to place points), labels [N],
    pca [N, 2], pca_explained [2], tsne [M, 2], tsne_index [M] (rows of the test set), umap [N, 2].
    ``report`` hears the measured times, e.g. "t-SNE of 5,000 test means: 21.4 s".
    ``umap=False`` leaves UMAP out (as in a file written before UMAP was added).
    """
    mu = encode_means(model, test_split.images).numpy()
    pca, explained = pca_2d(mu.astype(np.float64))
    rng = np.random.default_rng(seed)
    subset = np.sort(rng.choice(len(mu), size=min(tsne_points, len(mu)), replace=False))
    started = time.perf_counter()
    tsne = tsne_2d(mu[subset].astype(np.float64), seed)
    if report is not None:
        report(f"t-SNE of {len(subset):,} test means: {time.perf_counter() - started:.1f} s")
    arrays = {
        "mu": mu.astype(np.float16),
        "labels": test_split.labels.numpy().astype(np.int8),
        "pca": pca.astype(np.float32),
        "pca_explained": explained.astype(np.float32),
        "tsne": tsne.astype(np.float32),
        "tsne_index": subset.astype(np.int32),
    }
    return add_umap(arrays, seed, report) if umap else arrays


def save_projections(checkpoint: Checkpoint, arrays: dict[str, np.ndarray]) -> None:
    write_arrays_artifact(checkpoint, PROJECTIONS_FILE, arrays)


def load_projections(checkpoint: Checkpoint) -> dict[str, np.ndarray] | None:
    """The cached projections, or None when not computed yet (or unusable: ``store.scan`` names
    the file and the fix, and computing the maps again replaces it).

    Each array is bounded by its header before it is inflated (``store.read_projections``).
    ``umap`` is absent from files written before UMAP was added (see ``has_umap``), and from
    files whose UMAP is not a map of these means.
    """
    try:
        return read_projections(checkpoint)
    except CheckpointError:
        return None


def has_umap(arrays: dict[str, np.ndarray] | None) -> bool:
    return arrays is not None and "umap" in arrays
