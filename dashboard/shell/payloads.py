"""What our components are fed, built once per model (or test set) and shared by every session.

The components (``dashboard/components``) draw; the cache (``cache.py``) loads. This module joins the
two: the decoder's layers and weights for the live decoder (or the server's digit when the page cannot
run that decoder), a projection's points and the test set's sprite sheet for the canvas, the plane's
test means for the explorer, and what colours a map's points and the density lines under them. Results are
shared: do not mutate.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from dashboard.components import canvas, live_decoder, map_colour, sprites
from dashboard.shell import cache, charts
from dashboard.shell.cache import per_checkpoint
from vae_core.train_points import train_from


@per_checkpoint(shared=True, max_entries=32)
def decoder_layers_for(checkpoint):
    """The checkpoint's decoder as the page's layer list (``vae_core.layer_list.Layers``); a registered
    architecture's is traced once, in a child process."""
    from vae_core.layer_list import decoder_layers

    return decoder_layers(cache.model_for(checkpoint), checkpoint_path=checkpoint.path)


@per_checkpoint(shared=True, max_entries=32)
def decoder_weights_for(checkpoint) -> bytes:
    """The checkpoint's decoder layers and weights as the live decoder's binary payload."""
    return live_decoder.weights_payload(cache.model_for(checkpoint), checkpoint.name, decoder_layers_for(checkpoint))


def server_digit(checkpoint, z) -> live_decoder.ServerDigit | None:
    """None when the page runs ``checkpoint``'s decoder itself; else the picture the server decodes at z [D]
    (a tensor or a list of floats), as levels channels first (``ServerDigit.grey``), and the line that says so."""
    reason = decoder_layers_for(checkpoint).reason
    if reason is None:
        return None
    import torch

    from vae_core import explore

    point = torch.as_tensor(z, dtype=torch.float32).reshape(1, -1)
    picture = explore.to_uint8(explore.decode(cache.model_for(checkpoint), point))[0]  # [S, S] or [S, S, 3]
    levels = (picture if picture.ndim == 2 else np.moveaxis(picture, -1, 0)).reshape(-1)  # channels first
    return live_decoder.ServerDigit(live_decoder.server_note(reason), [int(v) for v in levels],
                                    [float(v) for v in point[0]])


@per_checkpoint(shared=True)
def map_points_for(checkpoint, method: str, every: bool = False) -> canvas.MapPoints:
    """The points of one cached projection as the canvas draws them: the test digits, or (``every``) the test and
    the training digits (``cache.every_point_for``: call it only when that is not None)."""
    arrays, latent_dim = cache.map_arrays_for(checkpoint, every), checkpoint.model_config.latent_dim
    coords, rows, *titles = charts.map_axes(arrays, method, latent_dim)
    return canvas.MapPoints(coords[:, 0], coords[:, 1], rows, arrays["labels"][rows], tuple(titles),
                            charts.map_title(method, latent_dim, every), train_from(arrays))


@per_checkpoint(shared=True)
def map_colouring_for(checkpoint, method: str, by: str, every: bool = False) -> dict | None:
    """The canvas' colouring of one projection's points by ``by`` (``map_colour.options``); None: by class."""
    arrays, rows = cache.map_arrays_for(checkpoint, every), map_points_for(checkpoint, method, every).rows
    dim = map_colour.DIM.fullmatch(by)
    if dim is not None and int(dim.group(1)) < arrays["mu"].shape[1]:
        return map_colour.colouring(arrays["mu"][rows, int(dim.group(1))], by)
    return map_colour.colouring(arrays[by][rows], by) if by in map_colour.VALUES and by in arrays else None


@per_checkpoint(shared=True, max_entries=16)
def map_contours_for(checkpoint, method: str, mode: str, every: bool = False) -> list[dict]:
    """The density lines under one projection's points: over all of them, per class, or none (``map_colour``)."""
    points = map_points_for(checkpoint, method, every)
    return map_colour.contours(points.x, points.y, points.labels, mode)


@per_checkpoint()
def plane_points_for(checkpoint, dims: tuple[int, int]) -> tuple[list[float], list[float], list[int]]:
    """(x, y, label) of the test means the live plane draws behind ``dims``: built once, not on every rerun."""
    arrays = cache.projections_for(checkpoint)
    mu, labels = (None, None) if arrays is None else (arrays["mu"], arrays["labels"])
    return live_decoder.plane_points(mu, labels, dims)


def _image_shape(dataset: str) -> tuple[int, int]:
    """(channels, side) of the data set's images (``vae_core.data.image_set``: a registered set's from its folder)."""
    from vae_core.data import image_set

    shape = image_set(dataset)
    return shape.channels, shape.side


@st.cache_resource(show_spinner="Preparing the thumbnails of the test digits…", max_entries=4)
def _sprite(dataset: str, data_dir: str, stamp: str, sprite_id: str) -> bytes | None:
    split, _ = cache.test_split_in(dataset, data_dir, stamp)
    return None if split is None else sprites.sprite_payload(split.images.numpy(), sprite_id, *_image_shape(dataset))


def sprite_for(dataset: str) -> tuple[str, object]:
    """(the id of the test set's sprite sheet, a function returning its payload, built once per process)."""
    data_dir, stamp = cache.data_key(), cache.images_stamp(dataset)
    sprite_id = f"{dataset}-test-{_digest(data_dir, stamp)}"
    return sprite_id, lambda: _sprite(dataset, data_dir, stamp, sprite_id)


@st.cache_resource(show_spinner="Preparing the thumbnails of the training digits…", max_entries=1)
def _train_sprite(dataset: str, data_dir: str, stamp: str, sprite_id: str) -> bytes | None:
    every, _ = cache.every_split_in(dataset, data_dir, stamp)  # the images the map's selections show: read once
    if every is None:
        return None
    test_count = len(cache.test_split_in(dataset, data_dir, stamp)[0].labels)
    return sprites.gzip_sprite_payload(every.images[test_count:].numpy(), sprite_id, *_image_shape(dataset))


def train_sprite_for(dataset: str) -> tuple[str, object]:
    """(the id of the training set's sprite sheet, a function returning its payload, built once per process): sent
    only to a page that shows every point, after the test set's sheet (its rows follow the test rows)."""
    data_dir, stamp = cache.data_key(), cache.images_stamp(dataset)
    sprite_id = f"{dataset}-train-{_digest(data_dir, stamp)}"
    return sprite_id, lambda: _train_sprite(dataset, data_dir, stamp, sprite_id)


def _digest(data_dir: str, stamp: str) -> str:
    """Ten hex digits naming the images a sheet holds: a page keeps a sheet by its id for the whole session."""
    return hashlib.sha256(f"{data_dir}#{stamp}".encode()).hexdigest()[:10]
