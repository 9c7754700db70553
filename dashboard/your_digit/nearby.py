"""The test digits nearest the reader's own, found as the Latent map finds a clicked point's: the k nearest in the
full latent space by posterior mean (``vae_core.neighbours``, over the checkpoint's cached test means), each with
its thumbnail, index, class and distance, and a button that opens it in the Latent explorer."""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard.shell import cache, links, points, ui
from dashboard.your_digit import state
from vae_core import neighbours as knn
from vae_core.classes import noun

PER_ROW = 4  # neighbours per row: room under each thumbnail for its button, two rows for the default 8


def nearest(checkpoint, mu: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """The ``k`` test rows whose cached means are nearest ``mu`` [D], nearest first, and their distances."""
    return knn.nearest(cache.projections_for(checkpoint)["mu"], mu, k)


def thumbnails(checkpoint, split, rows: list[int], distances: list[float],
               names: tuple[str, ...]) -> tuple[list[bytes], bool]:
    """(one PNG per row: its digit with '#index · class' and the distance under it, whether they are the test
    images). Without the test images the means were computed on, the digits are the decoded means."""
    arrays = cache.projections_for(checkpoint)
    test_images = split.images if points.split_matches(split, arrays) else None
    images, originals = knn.thumbnails(cache.model_for(checkpoint), test_images, arrays["mu"], rows)
    lines = knn.tile_lines(rows, distances, arrays["labels"], names)
    return [knn.tiles_png(image[None], [line], columns=1) for image, line in zip(images, lines, strict=True)], originals


def nearest_digits(ctx, found: tuple[list[int], list[float]], split, names: tuple[str, ...]) -> list[int]:
    """The section under the page's columns, listing ``found`` (``nearest`` for ``state.chosen_count()``, which
    the slider drawn here shows); the rows it lists, nearest first."""
    one, many = noun(ctx.dataset), noun(ctx.dataset, plural=True)
    latent_dim = ctx.checkpoint.model_config.latent_dim
    title, count = st.columns([3, 1], vertical_alignment="bottom")
    title.markdown(f"**The test {many} nearest yours**")
    with count:
        state.neighbour_count(f"The nearest test {many} to yours in the whole {latent_dim}-D latent space, by the "
                              "distance between posterior means (not on the map's 2-D projection)")
    rows, distances = found
    tiles, originals = thumbnails(ctx.checkpoint, split, rows, distances, names)
    labels = cache.projections_for(ctx.checkpoint)["labels"]
    columns = []
    for index, (row, tile, distance) in enumerate(zip(rows, tiles, distances, strict=True)):
        if index % PER_ROW == 0:
            columns = st.columns(PER_ROW)
        with columns[index % PER_ROW]:
            ui.image(tile, alt=f"Test {one} #{row}, {names[int(labels[row])]}, at distance {distance:.3f}")
            links.explorer_link(f"Open #{row}",
                                f"Opens the Latent explorer at the posterior mean of test {one} #{row}.",
                                start=points.BASE_MODES[2], digit=str(row))
    listed = ", ".join(f"#{r} ({names[int(labels[r])]}) {d:.3f}" for r, d in zip(rows, distances, strict=True))
    st.caption(f"{len(rows)} nearest to your {one} (distance in the {latent_dim}-D latent space): {listed}"
               + ("" if originals else f". The pictures are decoded means: the test {many} are not loaded."))
    return rows
