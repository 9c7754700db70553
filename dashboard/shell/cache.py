"""Every Streamlit cache of the app lives here.

``st.cache_resource`` objects (models, projections, figures) are shared by all sessions
and returned without copying: callers treat them as read-only, and models are used in
eval mode under ``torch.no_grad()`` only. Heavy modules (torch, torchvision, plotly) are
imported inside the functions so that starting the app does not wait for them.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from dashboard.shell import captions, charts, images, points, tables

_torch_configured = False


def _configure_torch() -> None:
    """One intra-op thread for torch in the dashboard process, set where the app first imports torch.

    Every session shares this process, and its forward passes are tiny (one decoded digit, one
    classifier reading per slider move): splitting them across threads only adds synchronisation,
    and on a busy 2-core machine a 2-thread forward of a single image can wait ~70 ms for a core.
    Parallelism comes from the sessions. The largest job, the Generate page's nearest-image search
    over the 60,000 training images, is cached and takes about 0.3 s on one thread for 100
    samples (0.25 s on two), after loading the images once (about 1.5 s).
    """
    global _torch_configured
    if not _torch_configured:
        import torch

        torch.set_num_threads(1)
        _torch_configured = True


def checkpoint_root() -> Path:
    """$VAE_CHECKPOINT_DIR, else ./checkpoints (read on every run so tests can point it elsewhere).

    Every run starts here (the sidebar scans the checkpoints) before any page loads a model,
    so this is where the dashboard's torch settings are made.
    """
    _configure_torch()
    from vae_core.store import resolve_checkpoint_dir

    return resolve_checkpoint_dir()


def _fingerprint(root: Path) -> tuple:
    """Modification times of the root and of each checkpoint folder.

    Checkpoints and their caches are written atomically (a rename inside the folder), which
    updates the folder's mtime, so a handful of stat calls per run tell when to rescan.
    """
    if not root.is_dir():
        return ()
    entries = [("", root.stat().st_mtime_ns)]
    for entry in os.scandir(root):
        if entry.is_dir() and not entry.name.startswith("."):
            entries.append((entry.name, entry.stat().st_mtime_ns))
    return tuple(sorted(entries))


@st.cache_resource(show_spinner="Reading checkpoints…", max_entries=4)
def _scan(root: str, fingerprint: tuple):
    from vae_core import store

    return store.scan(Path(root))


def scan_checkpoints():
    """(root, checkpoints, problems, error): error is one sentence when the root cannot be read."""
    from vae_core.store import CheckpointError

    root = checkpoint_root()
    try:
        checkpoints, problems = _scan(str(root.resolve()), _fingerprint(root))
    except (CheckpointError, OSError) as error:
        return root, [], [], str(error)
    return root, checkpoints, problems, None


def checkpoint_key(checkpoint) -> tuple[str, int]:
    """What a cached result of one checkpoint depends on: its folder and the folder's modification time.

    Every write into a checkpoint (weights, projections, metrics) is a rename inside its folder,
    which updates the folder's mtime, so a retrained or re-projected model is never served stale.
    """
    return str(checkpoint.path), tables.weights_stamp(checkpoint)


# Streamlit hashes a store.Checkpoint argument by this key (a type name, so torch is not imported here).
BY_CHECKPOINT = {"vae_core.store.Checkpoint": checkpoint_key}


def data_key() -> str:
    """$VAE_DATA_DIR resolved: part of the key of every result that reads the test or training images."""
    from vae_core.data import resolve_data_dir

    return str(resolve_data_dir().resolve())


@st.cache_resource(show_spinner="Loading model…", max_entries=32, hash_funcs=BY_CHECKPOINT)
def model_for(checkpoint):
    """The VAE of one checkpoint, on CPU in eval mode, loaded once per process."""
    from vae_core import store

    return store.load_model(checkpoint, device="cpu")


@st.cache_resource(show_spinner="Reading cached projections…", max_entries=32, hash_funcs=BY_CHECKPOINT)
def projections_for(checkpoint) -> dict | None:
    """projections.npz of a checkpoint (arrays made read-only), or None when not computed."""
    from vae_core.projections import load_projections

    arrays = load_projections(checkpoint)
    if arrays is not None:
        for array in arrays.values():
            array.setflags(write=False)
    return arrays


@st.cache_resource(show_spinner="Loading the test images…", max_entries=4)
def _test_split(dataset: str, data_dir: str):
    """(Split, None) or (None, the one-sentence reason). Never downloads from inside the app."""
    from dashboard.shell.captions import missing_test_files

    reason = missing_test_files(dataset, data_dir)
    if reason is not None:
        return None, reason
    from vae_core.data import DataUnavailableError, load_split

    try:
        return load_split(dataset, train=False, data_dir=data_dir, download=False), None
    except DataUnavailableError as error:
        return None, str(error)


def test_files_missing(dataset: str) -> str | None:
    """Why the test images are absent (one sentence), or None when their files are there; reads nothing."""
    from vae_core.data import resolve_data_dir

    return captions.missing_test_files(dataset, resolve_data_dir().resolve())


def test_split(dataset: str):
    """The test split of ``dataset`` from $VAE_DATA_DIR (or ./data), or (None, reason)."""
    from vae_core.data import resolve_data_dir

    return _test_split(dataset, str(resolve_data_dir().resolve()))


@st.cache_resource(max_entries=32, hash_funcs=BY_CHECKPOINT)
def _latent_order(checkpoint, data_dir: str):
    split, _ = test_split(checkpoint.train_config.dataset)
    return points.latent_order(model_for(checkpoint), projections_for(checkpoint), split,
                               tables.evaluation_metrics(checkpoint))


def latent_order_for(checkpoint):
    """(dims most informative first, score per dim in nats, how the score was measured)."""
    return _latent_order(checkpoint, data_key())


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def generated_grid_png(checkpoint, seed: int, count: int, temperature: float, columns: int) -> bytes:
    """PNG of ``count`` digits decoded from prior draws (same seed, same latent draws)."""
    return images.generated_grid_png(model_for(checkpoint), seed, count, temperature, columns)


def _point_key(z) -> bytes:
    """A latent point [D] (tensor) as a hashable cache key: its float32 bytes."""
    return z.detach().to("cpu").float().numpy().tobytes()


def _point_from_key(key: bytes):
    """``_point_key``'s bytes back to a tensor [D]."""
    import numpy as np
    import torch

    return torch.from_numpy(np.frombuffer(key, dtype=np.float32).copy())


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def _manifold_png(checkpoint, base: bytes, dims: tuple, steps: int) -> bytes:
    import numpy as np

    return images.manifold_png(model_for(checkpoint), tuple(np.frombuffer(base, dtype=np.float32)), dims, steps)


def manifold_png(checkpoint, base, dims: tuple[int, int], steps: int) -> bytes:
    """PNG of the decoded grid over two latent dimensions, the others held at ``base`` [D] (a tensor).

    The base point is keyed by its float32 bytes: hashing one bytes object is much
    cheaper than hashing a tuple of 50 floats on every rerun.
    """
    return _manifold_png(checkpoint, _point_key(base), (int(dims[0]), int(dims[1])), int(steps))


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def _interpolation_png(checkpoint, data_dir: str, first: int, last: int, steps: int, factor: int) -> bytes:
    split, _ = test_split(checkpoint.train_config.dataset)
    model, arrays = model_for(checkpoint), projections_for(checkpoint)
    start, end = points.test_means(model, split, arrays, [first, last])
    return images.interpolation_png(model, start, end, steps, factor)


def interpolation_png(checkpoint, first: int, last: int, steps: int, factor: int) -> bytes:
    """PNG strip decoded along the line between two test digits' posterior means."""
    return _interpolation_png(checkpoint, data_key(), int(first), int(last), int(steps), int(factor))


@st.cache_resource(max_entries=64, hash_funcs=BY_CHECKPOINT)
def latent_map_figure(checkpoint, method: str, max_points: int | None = None, height: int = 620,
                      show_legend: bool = True, title: str | None = None):
    """The scatter of a checkpoint's cached projections (a shared plotly Figure: do not mutate)."""
    return charts.latent_map(projections_for(checkpoint), method, checkpoint.model_config.latent_dim,
                             max_points, height, show_legend, title,
                             captions.class_names(checkpoint.train_config.dataset))


@st.cache_resource(max_entries=16, hash_funcs=BY_CHECKPOINT)
def latent_plane_figure(checkpoint):
    """For a 2-D latent space: the test means plus a grid of clickable points (shared Figure)."""
    return charts.latent_plane(projections_for(checkpoint), points.SLIDER_RANGE)


# --- metrics.json, the digit classifier and the training images (see dashboard.points and dashboard.captions) ---

@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def metrics_for(checkpoint) -> dict | None:
    """The checkpoint's metrics.json (`vae-explorer evaluate`), or None when not computed."""
    return tables.evaluation_metrics(checkpoint)



@st.cache_resource(show_spinner="Loading the digit classifier…", max_entries=4)
def _classifier(root: str, dataset: str, stamp: int):
    from vae_core import store
    from vae_core.classifier import load_classifier

    try:
        return load_classifier(Path(root), dataset, device="cpu")[0], None
    except store.CheckpointError as error:
        return None, str(error)


def classifier(dataset: str):
    """(the digit classifier in eval mode, None) or (None, why not, naming the fix); loaded once per process.

    Shared by every session: call it only through ``vae_core.classifier.predict_proba`` (no grad, no training).
    """
    from vae_core.classifier import classifier_name

    root = checkpoint_root().resolve()
    return _classifier(str(root), dataset, tables.folder_stamp(root / classifier_name(dataset)))


def train_files_missing(dataset: str) -> str | None:
    """Why the training images are absent (one sentence), or None when their files are there; reads nothing."""
    return captions.missing_train_files(dataset, data_key())


@st.cache_resource(show_spinner="Loading the training images…", max_entries=2)
def _train_images(dataset: str, data_dir: str):
    """(training images [N, 784] float32, read-only use; None) or (None, the one-sentence reason).

    MNIST's 60,000 images take about 190 MB, held once per process for the nearest-image search.
    """
    from vae_core.data import DataUnavailableError, load_split

    try:
        return load_split(dataset, train=True, data_dir=data_dir, download=False).images, None
    except DataUnavailableError as error:
        return None, str(error)


@st.cache_data(max_entries=32, show_spinner="Searching the training set for the nearest images…",
               hash_funcs=BY_CHECKPOINT)
def _nearest_training(checkpoint, data_dir: str, seed: int, count: int, temperature: float):
    train, reason = _train_images(checkpoint.train_config.dataset, data_dir)
    if train is None:
        return None, None, reason
    samples = points.generated_images(model_for(checkpoint), seed, count, temperature)
    return (*points.nearest_training(samples, train), None)


def nearest_training(checkpoint, seed: int, count: int, temperature: float):
    """(neighbours [N, 28, 28], L2 distances [N], None) of the Generate grid's samples, or (None, None, reason).

    Absent training files are found with a stat call and never cached, so data added later is picked up.
    """
    reason = train_files_missing(checkpoint.train_config.dataset)
    if reason is not None:
        return None, None, reason
    return _nearest_training(checkpoint, data_key(), int(seed), int(count), float(temperature))


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def _annotated_grid_png(checkpoint, seed: int, count: int, temperature: float, columns: int, labelled: bool,
                        nearest: bool, sources: tuple) -> bytes:
    dataset = checkpoint.train_config.dataset
    samples = points.generated_images(model_for(checkpoint), seed, count, temperature)
    model = classifier(dataset)[0] if labelled else None
    labels = points.tile_labels(model, samples, dataset) if model is not None else None
    partners, distances, _ = nearest_training(checkpoint, seed, count, temperature) if nearest else (None,) * 3
    notes = None if distances is None else [f"NN {d:.2f}" for d in distances]
    return images.annotated_grid_png(samples, columns, labels, partners, notes)


def annotated_grid_png(checkpoint, seed: int, count: int, temperature: float, columns: int,
                       labelled: bool, nearest: bool) -> bytes:
    """The Generate grid with the classifier's guess and/or the nearest training image under each sample.

    The cache key includes where the classifier and the training images come from.
    """
    from vae_core.classifier import classifier_name

    root = checkpoint_root().resolve()
    sources = (str(root), tables.folder_stamp(root / classifier_name(checkpoint.train_config.dataset)), data_key())
    return _annotated_grid_png(checkpoint, int(seed), int(count), float(temperature), int(columns), bool(labelled),
                               bool(nearest), sources)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def plane_points_for(checkpoint, dims: tuple[int, int]) -> tuple[list[float], list[float], list[int]]:
    """(x, y, label) of the test means the live plane draws behind ``dims``: built once, not on every rerun."""
    from dashboard.components import live_decoder

    arrays = projections_for(checkpoint)
    mu, labels = (None, None) if arrays is None else (arrays["mu"], arrays["labels"])
    return live_decoder.plane_points(mu, labels, dims)


@st.cache_resource(max_entries=32, hash_funcs=BY_CHECKPOINT)
def decoder_weights_for(checkpoint) -> bytes:
    """The checkpoint's decoder weights as the live decoder's binary payload (built once per process)."""
    from dashboard.components import live_decoder

    return live_decoder.weights_payload(model_for(checkpoint), checkpoint.name)


# --- the map drawn in the page, its thumbnails, and the reader's own digit (dashboard.components.canvas) ---

@st.cache_resource(max_entries=64, hash_funcs=BY_CHECKPOINT)
def map_points_for(checkpoint, method: str):
    """The points of one cached projection as the page's map draws them (shared: do not mutate)."""
    import numpy as np

    from dashboard.components import canvas

    latent_dim = checkpoint.model_config.latent_dim
    arrays = projections_for(checkpoint)
    coords, rows, x_title, y_title = charts.map_axes(arrays, method, latent_dim)
    return canvas.MapPoints(coords[:, 0], coords[:, 1], rows, np.asarray(arrays["labels"])[rows],
                            (x_title, y_title), charts.map_title(method, latent_dim))


@st.cache_resource(show_spinner="Preparing the thumbnails of the test digits…", max_entries=4)
def _sprite(dataset: str, data_dir: str, sprite_id: str) -> bytes | None:
    from dashboard.components import canvas

    split, _ = _test_split(dataset, data_dir)
    return None if split is None else canvas.sprite_payload(split.images.numpy().reshape(-1, 28, 28), sprite_id)


def sprite_for(dataset: str) -> tuple[str, object]:
    """(the id of the test set's sprite sheet, a function returning its payload, built once per process)."""
    import hashlib

    data_dir = data_key()
    sprite_id = f"{dataset}-test-{hashlib.sha256(data_dir.encode()).hexdigest()[:10]}"
    return sprite_id, lambda: _sprite(dataset, data_dir, sprite_id)



# --- traversals, class arithmetic and the encoded test set's exports (vae_core.figures, vae_core.exports) ---

@st.cache_resource(max_entries=32, hash_funcs=BY_CHECKPOINT)
def _class_means(checkpoint, data_dir: str):
    from vae_core import exports, latent

    arrays = projections_for(checkpoint)
    if arrays is not None:
        return latent.class_means(arrays["mu"], arrays["labels"])
    split, _ = test_split(checkpoint.train_config.dataset)
    if split is None:
        return None
    return latent.class_means(exports.encode_test_set(model_for(checkpoint), split.images)[0], split.labels)


def class_means_for(checkpoint):
    """[10, D] mean posterior mean of each class over the test set (cached means, else the test images), or None."""
    return _class_means(checkpoint, data_key())


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def _traversal(checkpoint, data_dir: str, start: bytes, rows: int, columns: int):
    from vae_core import figures, latent

    order, scores, note = latent_order_for(checkpoint)
    collapsed = points.collapsed_dims(checkpoint.model_config.latent_dim, metrics_for(checkpoint), scores)
    ranking = latent.DimensionRanking(order, scores, frozenset(collapsed), note)
    return figures.traversal(model_for(checkpoint), _point_from_key(start), ranking, rows, columns)


def traversal_for(checkpoint, start, rows: int, columns: int):
    """The decoded traversal (``vae_core.figures.Traversal``) of the ``rows`` most informative dims around start [D].

    Rows follow ``latent_order_for`` and mark ``points.collapsed_dims``, as the explorer's sliders do.
    """
    return _traversal(checkpoint, data_key(), _point_key(start), int(rows), int(columns))


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=BY_CHECKPOINT)
def _class_strip(checkpoint, data_dir: str, kind: str, first: int, last: int, steps: int, start: bytes,
                 strength: float):
    from vae_core import figures

    means, model = class_means_for(checkpoint), model_for(checkpoint)
    if kind == "morph":
        return figures.morph_images(model, means, first, last, steps)
    return figures.direction_images(model, _point_from_key(start), means, first, last, steps, strength)


def class_strip(checkpoint, kind: str, first: int, last: int, steps: int, start=None, strength: float = 1.0):
    """Decoded digits [steps, 28, 28]: a morph between two class means (``kind`` "morph"), or the class
    direction from ``first`` to ``last`` added to start [D] ("direction"). Needs ``class_means_for``."""
    key = b"" if start is None else _point_key(start)
    return _class_strip(checkpoint, data_key(), kind, int(first), int(last), int(steps), key, float(strength))


@st.cache_resource(max_entries=16, show_spinner=False)
def job_curves_figure(losses: tuple[tuple[float, float], ...], epochs: int):
    """A training job's curve, built once per completed epoch: the Train page redraws it every poll.

    losses: (train, test) per completed epoch. Shared read-only, like every cached figure.
    """
    history = [{"epoch": epoch, "train_loss": train, "test_loss": test}
               for epoch, (train, test) in enumerate(losses, 1)]
    return charts.job_curves(history, epochs)
