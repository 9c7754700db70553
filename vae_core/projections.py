"""2-D maps of the encoded test set, computed once per checkpoint and cached beside it.

The maps come in stages, so a model can be explored before its slow maps exist:
``quick_maps`` encodes the test set and maps it with PCA (well under a second); ``add_tsne``
and ``add_umap`` then add the slow maps (seconds each, ``tsne_description`` says what decides
t-SNE's cost), each from the cached float16 means alone, so a map added later is the map that
computing everything at once gives. Neither slow map runs inside a dashboard rerun (the app
never imports umap): ``vae-explorer project`` (and ``train``, and the worker) write
``projections.npz``, report the time each slow map took, and the app reads the file.

A file may hold PCA alone, PCA and t-SNE (as files written before UMAP existed), or all
three; ``has_tsne`` and ``has_umap`` say which.

numba compiles UMAP's kernels in each new process unless its on-disk cache is used:
``_use_numba_cache`` points ``NUMBA_CACHE_DIR`` at the user's cache folder before umap is
imported, so the compile is paid once per machine (and per numba/umap version).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .data import Split
from .defaults import DEFAULT_TSNE_POINTS, TSNE_ANGLE, TSNE_ITERATIONS, TSNE_PERPLEXITY, tsne_description  # noqa: F401
from .models import VariationalAutoencoder
from .point_stats import point_stats
from .store import PROJECTIONS_FILE, Checkpoint, CheckpointError, read_projections, write_arrays_artifact
from .tsne_process import tsne_2d  # noqa: F401  (defined where a child process finds it without torch)

# What t-SNE's time depends on (sklearn's Barnes-Hut method): the number of points, the perplexity
# (each point's neighbours number about 3 x perplexity), the iterations, and the cores it gets.
ENCODE_BATCH = 2000
UMAP_NEIGHBOURS = 15  # umap-learn's default: the size of the neighbourhood each point keeps
# umap-learn's default is 500 epochs up to 10,000 points (200 above): at 200 the map of 10,000 test
# means keeps its trustworthiness (benchmarks/map_speed.py prints both) for less than half the time.
UMAP_EPOCHS = 200
# From the PCA of the means, not umap-learn's default spectral embedding: the same trustworthiness (0.9996 against
# 0.9995 at z = 2, 0.9678 against 0.9682 at z = 10, 0.9456 against 0.9452 at z = 50) for less time (5.8 s against
# 8.1 s at z = 2, where the eigensolver is slowest), measured on the shipped models.
UMAP_INIT = "pca"
_umap_compiled = False  # numba compiles UMAP's kernels on the first call of each process


@torch.no_grad()
def encode_means(model: VariationalAutoencoder, images: torch.Tensor) -> torch.Tensor:
    """images [N, C x S x S] (MNIST: [N, 784]) -> posterior means mu [N, D] (on CPU)."""
    device = next(model.parameters()).device
    chunks = [model.encode(images[i:i + ENCODE_BATCH].to(device))[0].cpu()
              for i in range(0, len(images), ENCODE_BATCH)]
    return torch.cat(chunks)


def pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """points [N, D] -> (coordinates [N, 2], explained variance ratio [2]); D = 1 pads a zero.

    An SVD in numpy, not sklearn's PCA: importing sklearn.decomposition would cost more than the
    whole quick stage. Each axis's sign is fixed as sklearn fixes it (its largest loading positive).
    """
    if points.shape[1] == 1:
        return np.hstack([points, np.zeros_like(points)]), np.array([1.0, 0.0])
    centred = points - points.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2] * np.sign(axes[:2][np.arange(2), np.abs(axes[:2]).argmax(axis=1)])[:, None]
    variance = singular ** 2
    total = variance.sum()
    explained = variance[:2] / total if total > 0 else np.zeros(2)
    return centred @ axes.T, explained


def numba_cache_dir() -> Path:
    """Where numba keeps UMAP's compiled kernels: ``$NUMBA_CACHE_DIR`` when set, otherwise
    ``vae-explorer/numba`` in the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``;
    ``%LOCALAPPDATA%`` on Windows)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or (os.name == "nt" and os.environ.get("LOCALAPPDATA"))
    return Path(base or Path.home() / ".cache") / "vae-explorer" / "numba"


def _use_numba_cache() -> None:
    """Point numba's on-disk cache at ``numba_cache_dir()``; numba reads it once, when it is first
    imported, so this runs before umap is. Without it numba tries the folder beside umap's source
    (often read-only in an installed environment) and compiles again in every process."""
    import sys

    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir()))


def exact_neighbours(points: np.ndarray, neighbours: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances) [N, neighbours] of each point's nearest points, itself included.

    Exact, by brute force: for the test set's low-dimensional means this takes a second, where
    umap's own approximate search (pynndescent) costs tens of seconds of numba compiling in
    every new process, and the exact graph is the better one.
    """
    from sklearn.neighbors import NearestNeighbors

    distances, indices = NearestNeighbors(n_neighbors=neighbours, algorithm="brute").fit(points).kneighbors(points)
    return indices, distances


def umap_2d(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """points [N, D] -> UMAP coordinates [N, 2] (umap-learn; seeded, hence single-threaded and repeatable)."""
    import warnings

    _use_numba_cache()
    import umap

    neighbours = min(UMAP_NEIGHBOURS, len(points) - 1)
    reducer = umap.UMAP(n_components=2, n_neighbors=neighbours, n_epochs=UMAP_EPOCHS, random_state=seed, n_jobs=1,
                        init=UMAP_INIT, precomputed_knn=exact_neighbours(points, neighbours))
    with warnings.catch_warnings():  # e.g. "n_jobs overridden by random_state": chosen, not a surprise
        warnings.simplefilter("ignore", UserWarning)
        return reducer.fit_transform(points)


def umap_warm() -> bool:
    """Whether this process has run UMAP already (numba's kernels loaded: the next one costs only its fit)."""
    return _umap_compiled


def warm_up_umap() -> float:
    """Import umap and load (or compile) numba's kernels with a small fit; the seconds it took, 0 when warm.

    A new process pays this once (about 10 s with numba's cache kept, tens of seconds without it); timed
    apart from the fit, the Train page can tell a worker's first maps from its next ones.
    """
    global _umap_compiled
    if _umap_compiled:
        return 0.0
    started = time.perf_counter()
    umap_2d(np.random.default_rng(0).random((UMAP_NEIGHBOURS * 20, 2), dtype=np.float32))
    _umap_compiled = True
    return time.perf_counter() - started


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
        note = "" if _umap_compiled else " (the first in this process: includes loading or compiling numba's kernels)"
        report(f"UMAP of {len(coordinates):,} test means: {time.perf_counter() - started:.1f} s{note}")
    _umap_compiled = True
    return {**arrays, "umap": coordinates.astype(np.float32)}


def tsne_subset(rows: int, tsne_points: int = DEFAULT_TSNE_POINTS, seed: int = 0) -> np.ndarray:
    """The sorted rows of the test set that t-SNE maps: a fixed random subset of ``tsne_points``."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(rows, size=min(tsne_points, rows), replace=False)).astype(np.int32)


def add_tsne(arrays: dict[str, np.ndarray], tsne_points: int = DEFAULT_TSNE_POINTS, seed: int = 0,
             report: Callable[[str], None] | None = None,
             progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """The projections plus ``tsne`` [M, 2] float32 and ``tsne_index`` [M] (rows of the test set).

    Like ``add_umap``, it maps the cached float16 means, so t-SNE added later is the t-SNE that
    ``compute_projections`` gives. ``report`` hears the measured time; ``progress`` hears the
    fraction of the optimisation done (0 to 1) as it goes.
    """
    subset = tsne_subset(len(arrays["mu"]), tsne_points, seed)
    started = time.perf_counter()
    coordinates = tsne_2d(np.asarray(arrays["mu"], dtype=np.float64)[subset], seed, progress)
    if report is not None:
        report(f"t-SNE of {len(subset):,} test means: {time.perf_counter() - started:.1f} s")
    return {**arrays, "tsne": coordinates.astype(np.float32), "tsne_index": subset}


def quick_maps(model: VariationalAutoencoder, test_split: Split) -> dict[str, np.ndarray]:
    """Encode the whole test set and map it with PCA: what a model needs to be explored at once.

    Returns arrays: mu [N, D] float16 (enough to decode and to place points; the slow maps are
    computed from it), labels [N] int8, pca [N, 2] float32, pca_explained [2] float32. The per-digit
    values the map colours by (``point_stats``) come with the slow maps: a conv net's take seconds.
    """
    mu = encode_means(model, test_split.images).numpy()
    pca, explained = pca_2d(mu.astype(np.float64))
    return {
        "mu": mu.astype(np.float16),
        "labels": test_split.labels.numpy().astype(np.int8),
        "pca": pca.astype(np.float32),
        "pca_explained": explained.astype(np.float32),
    }


def compute_projections(model: VariationalAutoencoder, test_split: Split, tsne_points: int = DEFAULT_TSNE_POINTS,
                        seed: int = 0, report: Callable[[str], None] | None = None,
                        umap: bool = True) -> dict[str, np.ndarray]:
    """Every map at once: ``quick_maps`` with the per-digit values (``point_stats``, no classifier), then
    ``add_tsne`` (a fixed random subset of ``tsne_points`` means), then ``add_umap`` (all of them) unless
    ``umap=False`` (as in a file written before UMAP was added). ``report`` hears the measured times,
    e.g. "t-SNE of 5,000 test means: 9.4 s".
    """
    arrays = quick_maps(model, test_split) | point_stats(model, test_split.images)
    arrays = add_tsne(arrays, tsne_points, seed, report)
    return add_umap(arrays, seed, report) if umap else arrays


def save_projections(checkpoint: Checkpoint, arrays: dict[str, np.ndarray]) -> None:
    write_arrays_artifact(checkpoint, PROJECTIONS_FILE, arrays)


def load_projections(checkpoint: Checkpoint) -> dict[str, np.ndarray] | None:
    """The cached projections, or None when not computed yet (or unusable: ``store.scan`` names
    the file and the fix, and computing the maps again replaces it).

    Each array is bounded by its header before it is inflated (``store.read_projections``).
    ``tsne`` and ``tsne_index`` are absent from a file written before t-SNE was done (see
    ``has_tsne``); ``umap`` from files written before UMAP was added or done (see ``has_umap``),
    and from files whose UMAP is not a map of these means.
    """
    try:
        return read_projections(checkpoint)
    except CheckpointError:
        return None


def has_tsne(arrays: dict[str, np.ndarray] | None) -> bool:
    return arrays is not None and "tsne" in arrays


def has_umap(arrays: dict[str, np.ndarray] | None) -> bool:
    return arrays is not None and "umap" in arrays
