"""Compare's grid: one column per model (samples, reconstructions, latent map), wrapped into rows.

Rows of at most ``PER_ROW`` columns keep eight models or more readable: each column keeps a
width where a 4 x 4 sample grid, a map with its ticks and a two-line title fit. The maps are
small 2-D canvases (``canvas.map_tile``), so many models open no WebGL context.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.components import canvas
from dashboard.shell import cache, captions, charts, images, map_wait, payloads, ui

PER_ROW = 4  # columns per row: a small map, a 4 x 4 sample grid and its titles fit at this width


@dataclass(frozen=True)
class Shared:
    """What every column shows the same way."""

    seed: int  # the prior draws of the sample grid
    temperature: float
    indices: list  # the test rows each column reconstructs ([] when there are none)
    method: str  # the map's projection: "t-SNE", "UMAP" or "PCA"
    splits: dict  # data set -> its test split, or None without the images
    labels: dict  # checkpoint name -> its column title


def grid(models: list, shared: Shared) -> None:
    """Every model's column, ``PER_ROW`` to a row, in the order given."""
    sprites = send_sprites(shared.splits)
    for start in range(0, len(models), PER_ROW):
        for checkpoint, column in zip(models[start:start + PER_ROW], st.columns(PER_ROW), strict=False):
            with column:
                model_column(checkpoint, shared, sprites)


def send_sprites(splits: dict) -> dict:
    """{data set: the id of its test thumbnails, sent once per browser session, or None without the images}."""
    sprites = dict.fromkeys(splits)
    for dataset, split in splits.items():
        if split is not None:
            sprites[dataset], payload = payloads.sprite_for(dataset)
            canvas.send_sprite(f"compare_sprite_{dataset}", sprites[dataset], payload)
    return sprites


def model_column(checkpoint, shared: Shared, sprites: dict) -> None:
    """One model's column: its title, 16 samples, the originals (several data sets) and reconstructions, its map."""
    dataset, label = checkpoint.train_config.dataset, shared.labels[checkpoint.name]
    st.subheader(label)
    ui.image(images.generated_grid_png_for(checkpoint, shared.seed, 16, shared.temperature, 4), width="stretch",
             caption=f"16 samples, seed {shared.seed}",
             alt=f"16 images decoded by {label} from random latent vectors, seed {shared.seed}, temperature "
                 f"{shared.temperature:.2f}, 4 per row")
    split, arrays = shared.splits[dataset], cache.projections_for(checkpoint)
    if shared.indices and len(shared.splits) > 1 and split is not None:
        ui.image(images.test_images_png(split, shared.indices, 4, factor=2), width="stretch", caption="Originals",
                 alt=f"The {len(shared.indices)} test images that {label} reconstructs below, 4 per row")
    if shared.indices:
        png = images.decoded_means_png(cache.model_for(checkpoint), split, arrays, shared.indices, 4)
        ui.image(png, width="stretch", caption="Reconstructions",
                 alt=f"{label}'s reconstructions of the {len(shared.indices)} shared test images (decoded posterior "
                     "means), 4 per row")
    if arrays is None:
        st.caption("No cached latent map (`vae-explorer project`).")
    elif not charts.map_cached(arrays, shared.method):
        missing_map(checkpoint, shared.method, dataset)
    else:
        as_is = shared.method == "PCA" and checkpoint.model_config.latent_dim == 2
        canvas.map_tile(payloads.map_points_for(checkpoint, shared.method), captions.class_names(dataset),
                        charts.DIGIT_COLORS, model=checkpoint.name, method=shared.method, label=label,
                        sprite=sprites[dataset], height=240,
                        title="2-D means, as they are" if as_is else f"{shared.method} of the test means")


def missing_map(checkpoint, method: str, dataset: str) -> None:
    """A column whose model lacks ``method``'s map (a new model's t-SNE and UMAP follow its quick maps): one
    short line, or, while a process computes it, its progress until it lands and the page draws it."""
    from vae_core.map_progress import map_status

    if map_status(checkpoint.path.parent, checkpoint.name) is None:
        st.caption(f"No cached {method} map yet (`vae-explorer project --dataset {dataset}`).")
    else:
        map_wait.missing_map(checkpoint, method, dataset)
