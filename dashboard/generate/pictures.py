"""Generate's cached pictures: the grid with the classifier's guesses and the nearest training images."""

from __future__ import annotations

import streamlit as st

from dashboard.shell import cache, captions, images, points
from dashboard.shell.cache import per_checkpoint


@st.cache_resource(show_spinner="Loading the training images…", max_entries=2)
def _train_images(dataset: str, data_dir: str, stamp: str):
    """(training images [N, 784] float32, read-only use; None) or (None, the one-sentence reason); ``stamp``
    (``cache.images_stamp``) is a key only.

    MNIST's 60,000 images take about 190 MB, held once per process for the nearest-image search.
    """
    from vae_core.data import DataUnavailableError, load_split

    try:
        return load_split(dataset, train=True, data_dir=data_dir, download=False).images, None
    except DataUnavailableError as error:
        return None, str(error)


@per_checkpoint(reads_data=True, max_entries=32, show_spinner="Searching the training set for the nearest images…")
def _nearest_training(checkpoint, seed: int, count: int, temperature: float):
    dataset = checkpoint.train_config.dataset
    train, reason = _train_images(dataset, cache.data_key(), cache.images_stamp(dataset))
    if train is None:
        return None, None, reason
    samples = points.generated_images(cache.model_for(checkpoint), seed, count, temperature)
    return (*points.nearest_training(samples, train), None)


def nearest_training(checkpoint, seed: int, count: int, temperature: float):
    """(neighbours [N, 28, 28], L2 distances [N], None) of the grid's samples, or (None, None, reason).

    Absent training files are found with a stat call and never cached, so data added later is picked up.
    """
    reason = captions.missing_train_files(checkpoint.train_config.dataset, cache.data_key())
    if reason is not None:
        return None, None, reason
    return _nearest_training(checkpoint, int(seed), int(count), float(temperature))


@per_checkpoint(reads_data=True, max_entries=32)
def _annotated_grid_png(checkpoint, seed: int, count: int, temperature: float, columns: int, labelled: bool,
                        nearest: bool, classifier_source: tuple) -> bytes:
    dataset = checkpoint.train_config.dataset
    samples = points.generated_images(cache.model_for(checkpoint), seed, count, temperature)
    reader = cache.classifier(dataset)[0] if labelled else None
    labels = points.tile_labels(reader, samples, dataset) if reader is not None else None
    partners, distances, _ = nearest_training(checkpoint, seed, count, temperature) if nearest else (None,) * 3
    notes = None if distances is None else [f"NN {d:.2f}" for d in distances]
    return images.annotated_grid_png(samples, columns, labels, partners, notes)


def annotated_grid_png(checkpoint, seed: int, count: int, temperature: float, columns: int,
                       labelled: bool, nearest: bool) -> bytes:
    """The grid with the classifier's guess and/or the nearest training image under each sample.

    Keyed by where the classifier comes from too (the training images are in the data folder's key).
    """
    return _annotated_grid_png(checkpoint, int(seed), int(count), float(temperature), int(columns), bool(labelled),
                               bool(nearest), cache.classifier_key(checkpoint.train_config.dataset))
