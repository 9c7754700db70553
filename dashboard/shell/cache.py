"""The cache layer every slice uses: one keyed decorator per checkpoint, and what several slices share.

``per_checkpoint`` keys a cached function by the checkpoint's folder and modification time
(every write into a checkpoint is a rename inside its folder, so a retrained or re-projected
model is never served stale), by ``$VAE_DATA_DIR`` and a registered set's fingerprint when it
reads the data set, and hashes latent points (tensors) by their float32 bytes. Slices keep their
cached functions beside their pages; the bodies call ``vae_core`` and compose nothing themselves.
``shared=True`` results are one object for every session: read-only, models in eval mode under
``torch.no_grad()`` only.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from dashboard.shell import captions, points, tables
from vae_core.data import images_stamp  # beside data_key in every key of what a data set's images build (no torch)


@functools.cache
def _configure_torch() -> None:
    """One intra-op thread for torch: the sessions' forward passes are tiny (one digit, one reading), so
    threads only add synchronisation; parallelism comes from the sessions."""
    import torch

    torch.set_num_threads(1)


def checkpoint_root() -> Path:
    """$VAE_CHECKPOINT_DIR, else ./checkpoints, read on every run; every run starts here, so torch is set up here."""
    _configure_torch()
    from vae_core.store import resolve_checkpoint_dir

    return resolve_checkpoint_dir()


def data_key() -> str:
    """$VAE_DATA_DIR resolved: part of the key of every result that reads the test or training images."""
    from vae_core.data import resolve_data_dir

    return str(resolve_data_dir().resolve())


# Streamlit hashes these argument types by these keys (type names, so torch is not imported here): a
# checkpoint by its folder and the folder's modification time, a latent point [D] by its float32 bytes.
HASH_FUNCS = {"vae_core.store.Checkpoint": lambda c: (str(c.path), tables.weights_stamp(c)),
              "torch.Tensor": lambda z: z.detach().to("cpu").float().numpy().tobytes()}


def per_checkpoint(*, shared: bool = False, reads_data: bool = False, **options):
    """Cache ``fn(checkpoint, *args)`` per checkpoint (folder + mtime), and per $VAE_DATA_DIR when ``reads_data``;
    ``shared``: ``st.cache_resource`` (one object for all sessions), else ``st.cache_data`` (a copy per call)."""
    decorator = st.cache_resource if shared else st.cache_data

    def wrap(fn):
        def keyed(checkpoint, data_dir: str, *args, **kwargs):
            return fn(checkpoint, *args, **kwargs)

        keyed.__module__, keyed.__qualname__ = fn.__module__, fn.__qualname__  # one cache per wrapped function
        keyed.__wrapped__ = fn  # its source is fn's: an edit of fn clears its cache
        cached = decorator(hash_funcs=HASH_FUNCS, **({"show_spinner": False, "max_entries": 64} | options))(keyed)

        @functools.wraps(fn)
        def call(checkpoint, *args, **kwargs):
            key = data_key() + "#" + images_stamp(checkpoint.train_config.dataset) if reads_data else ""
            return cached(checkpoint, key, *args, **kwargs)

        call.clear = cached.clear
        return call

    return wrap


@per_checkpoint(shared=True, show_spinner="Loading model…", max_entries=32)
def _model(checkpoint):
    from vae_core.store import load_model

    return load_model(checkpoint, device="cpu")


def model_for(checkpoint):
    """The VAE of one checkpoint, on CPU in eval mode, loaded once per process; weights that cannot be used
    (NaN, a shape the header hid) stop this page with one line, and other pages keep working."""
    from vae_core.store import CheckpointError

    try:
        return _model(checkpoint)
    except CheckpointError as error:
        st.error(f"{checkpoint.name} cannot be used: {error}")
        st.stop()


@per_checkpoint(shared=True, show_spinner="Reading cached projections…", max_entries=32)
def projections_for(checkpoint) -> dict | None:
    """projections.npz of a checkpoint (arrays made read-only), or None when not computed."""
    from vae_core.projections import load_projections

    arrays = load_projections(checkpoint)
    for array in (arrays or {}).values():
        array.setflags(write=False)
    return arrays


@per_checkpoint(shared=True, show_spinner="Reading the training digits' places…", max_entries=8)
def every_point_for(checkpoint) -> dict | None:
    """The test digits followed by the training digits (``train_points.joined``; read-only), or None when the
    training digits are not cached for the current maps (`vae-explorer project` places them)."""
    from vae_core import train_points

    test = projections_for(checkpoint)
    train = train_points.load(checkpoint, test)
    arrays = None if train is None else train_points.joined(test, train)
    for array in (arrays or {}).values():
        array.setflags(write=False)
    return arrays


def map_arrays_for(checkpoint, every: bool = False) -> dict | None:
    """What a map draws: the test digits' projections, or (``every``) every digit's (None when not cached)."""
    return every_point_for(checkpoint) if every else projections_for(checkpoint)


@per_checkpoint()
def metrics_for(checkpoint) -> dict | None:
    """The checkpoint's metrics.json (`vae-explorer evaluate`), or None when not computed."""
    return tables.evaluation_metrics(checkpoint)


@per_checkpoint(shared=True, reads_data=True, max_entries=32)
def latent_order_for(checkpoint):
    """(dims most informative first, score per dim in nats, how the score was measured)."""
    split, _ = test_split(checkpoint.train_config.dataset)
    return points.latent_order(model_for(checkpoint), projections_for(checkpoint), split, metrics_for(checkpoint))


@st.cache_resource(show_spinner="Loading the test images…", max_entries=4)
def test_split_in(dataset: str, data_dir: str, stamp: str):
    """(Split, None) or (None, the one-sentence reason) from ``data_dir`` (``stamp``: ``images_stamp``, a key only).
    Never downloads from inside the app."""
    reason = captions.missing_test_files(dataset, data_dir)
    if reason is not None:
        return None, reason
    from vae_core.data import DataUnavailableError, load_split

    try:
        return load_split(dataset, train=False, data_dir=data_dir, download=False), None
    except DataUnavailableError as error:
        return None, str(error)


@st.cache_resource(show_spinner="Loading the training digits…", max_entries=1)
def every_split_in(dataset: str, data_dir: str, stamp: str):
    """The test split followed by the training split (one Split of 70,000 for MNIST), or (None, reason); read once
    for the map's originals and its training thumbnails (``payloads.train_sprite_for``)."""
    import torch

    from vae_core.data import DataUnavailableError, Split, load_split

    test, reason = test_split_in(dataset, data_dir, stamp)
    if test is None:
        return None, reason
    try:
        train = load_split(dataset, train=True, data_dir=data_dir, download=False)
    except DataUnavailableError as error:
        return None, str(error)
    return Split(torch.cat([test.images, train.images]), torch.cat([test.labels, train.labels])), None


def digits_split(dataset: str, every: bool = False):
    """The images a map's rows index: the test split, or (``every``) the test then the training split; or (None,
    reason). Only the Latent map's every-point view asks for the training images (about 190 MB as floats)."""
    return every_split_in(dataset, data_key(), images_stamp(dataset)) if every else test_split(dataset)


def test_split(dataset: str):
    """The test split of ``dataset`` from $VAE_DATA_DIR (or ./data), or (None, reason)."""
    return test_split_in(dataset, data_key(), images_stamp(dataset))


@st.cache_resource(show_spinner="Loading the digit classifier…", max_entries=4)
def _classifier(root: str, stamp: int, dataset: str):
    from vae_core import store
    from vae_core.classifier import load_classifier

    try:
        return load_classifier(Path(root), dataset, device="cpu")[0], None
    except store.CheckpointError as error:
        return None, str(error)


def classifier(dataset: str):
    """(the classifier in eval mode, None) or (None, why not, naming the fix); loaded once per process and
    shared: call it only through ``vae_core.classifier.predict_proba`` (no grad, no training)."""
    return _classifier(*classifier_key(dataset), dataset)


def classifier_key(dataset: str) -> tuple[str, int]:
    """Where the classifier of ``dataset`` comes from (folder root, stamp): part of the key of what reads it."""
    from vae_core.classifier import classifier_name

    root = checkpoint_root().resolve()
    return str(root), tables.folder_stamp(root / classifier_name(dataset))
