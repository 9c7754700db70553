"""The column beside the Latent map: the search box, the selected digits (a page at a time, their CSV, and for a
selection of more than one page its class histogram and mean digit), and a clicked point's nearest neighbours with
the way into the Latent explorer."""

from __future__ import annotations

import re

import streamlit as st

from dashboard.components import canvas
from dashboard.latent_map import neighbours, selection, state
from dashboard.shell import cache, images, links, points, ui
from vae_core import neighbours as knn
from vae_core import train_points
from vae_core.classes import class_name, noun

SHOWN = selection.PAGE_SIZE  # selected digits drawn beside the map at a time (the pager turns through all)
LISTED = 12  # selected digits named in the caption


def search(shown: state.MapView, map_points: canvas.MapPoints, total: int, dataset: str) -> None:
    """A test index (or, with every digit shown, "train N") typed here is selected on the map, which centres on it; a
    bad one is one line under the box."""
    tests = map_points.train_from or total
    hint = f"Its index, 0 to {tests - 1:,}" + (f", or train 0 to train {total - tests - 1:,}"
                                               if map_points.train_from else "")
    st.text_input(f"Find a {noun(dataset)}" if map_points.train_from else f"Find a test {noun(dataset)}",
                  key=shown.search_key, placeholder=hint, on_change=shown.searched,
                  args=(map_points.rows, total, shown.method, map_points.train_from),
                  help="Selects it on the map, lists its nearest neighbours and zooms the map onto it.")
    note = st.session_state.get(shown.search_note_key)
    if note:
        st.caption(f":material/error: {note}")


def ringed(checkpoint, clicked: int | None, k: int, every: bool = False) -> dict | None:
    """What the map rings: {"row": the clicked row, "rows": its k nearest neighbours}, or None."""
    if clicked is None:
        return None
    return {"row": clicked, "rows": neighbours.neighbours_for(checkpoint, clicked, k, every)[0]}


def selected_digits(ctx, shown: state.MapView, split, arrays, selected: list[int], map_points: canvas.MapPoints,
                    names: tuple[str, ...]) -> None:
    """The selected digits: how many and which, all of them as CSV, and their originals and decoded means a page of
    ``SHOWN`` at a time; a selection of more than one page also shows its class histogram and its mean digit."""
    many = noun(ctx.dataset, plural=True)
    st.markdown(f"**Selected {many}**")  # the size of the chart title beside it
    if not selected:
        st.write("Nothing selected yet.")
        return
    train_from = train_points.train_from(arrays)
    labels = ", ".join(f"{knn.digit_name(i, train_from)} ({class_name(ctx.dataset, int(arrays['labels'][i]))})"
                       for i in selected[:LISTED])
    st.caption(f"{len(selected)} selected: {labels}{' …' if len(selected) > LISTED else ''}")
    st.download_button(
        "Selection as CSV", lambda: neighbours.selection_csv(selected, arrays["labels"], names, map_points.rows,
                                                             map_points.x, map_points.y, arrays["mu"], train_from),
        file_name=f"{ctx.checkpoint.name}-{slug(shown.method)}-selection.csv", mime="text/csv",
        key=f"{shown.component_key}_csv", on_click="ignore", icon=":material/table:",
        help=f"All {len(selected):,} selected: split, index, class, x and y on this map, and the posterior mean mu_0 … "
             f"mu_{arrays['mu'].shape[1] - 1}")
    page = 1
    if len(selected) > SHOWN:
        summary(ctx, shown, split, arrays, selected, names)
        page = selection.pager(selection.page_key(shown.component_key), selected, many)
    indices, where = selection.page_rows(selected, page), selection.page_words(page, len(selected), many)
    if len(selected) > SHOWN:
        st.caption(f"Showing {where}")
    listed = ", ".join(knn.digit_name(i, train_from) for i in indices)
    if split is not None:
        ui.image(images.test_images_png(split, indices, 4), caption="Originals",
                 alt=f"The selected test images, {where}, 4 per row: {listed}")
    ui.image(images.decoded_means_png(cache.model_for(ctx.checkpoint), split, arrays, indices, 4),
             caption="Decoded posterior means",
             alt=f"The selected test images decoded from their posterior means, {where}, 4 per row: {listed}")


def summary(ctx, shown: state.MapView, split, arrays, selected: list[int], names: tuple[str, ...]) -> None:
    """The selection's class histogram and its mean digit: the pixel mean of the originals beside the digit decoded
    from the mean of their posterior means."""
    many = noun(ctx.dataset, plural=True)
    counts = selection.class_counts(arrays["labels"], selected, len(names))
    st.plotly_chart(selection.histogram(counts, names, many), key=f"{shown.component_key}_classes",
                    config={"displayModeBar": False},
                    alt=f"Classes of the {len(selected):,} selected: "
                        + ", ".join(f"{name} {int(c):,}" for name, c in zip(names, counts, strict=True)))
    st.markdown(f"**Mean {noun(ctx.dataset)} of the {len(selected):,} selected**")
    pixels, decoded = st.columns(2)
    if points.split_matches(split, arrays):
        with pixels:
            ui.image(images.grid_png(selection.pixel_mean(split.images, selected)[None], 1, 4),
                     caption="Pixel mean of the originals",
                     alt=f"The pixel-by-pixel mean of the {len(selected):,} selected test images")
    else:
        pixels.caption("The pixel mean needs the test images, which are not loaded.")
    mean = selection.decoded_mean(cache.model_for(ctx.checkpoint), arrays["mu"], selected)
    with decoded:
        ui.image(images.grid_png(mean[None], 1, 4),
                 caption="Decoded from the mean of their posterior means",
                 alt=f"The digit decoded from the mean of the {len(selected):,} selected posterior means")


def neighbours_of(ctx, shown: state.MapView, row: int, names: tuple[str, ...]) -> None:
    """A button that opens the explorer at the clicked digit, and its k nearest neighbours in the full latent
    space."""
    checkpoint, one = ctx.checkpoint, noun(ctx.dataset)
    latent_dim, arrays = checkpoint.model_config.latent_dim, cache.map_arrays_for(checkpoint, shown.every)
    train_from = train_points.train_from(arrays)
    name = knn.digit_name(row, train_from)
    st.markdown(f"**Nearest neighbours of {name}**")
    start = ({"start": points.TRAINING_DIGIT, "train_digit": str(row - train_from)}
             if train_from is not None and row >= train_from else {"start": points.BASE_MODES[2], "digit": str(row)})
    links.explorer_link("Open in the Latent explorer",
                        f"Opens the Latent explorer with its sliders at the posterior mean of {one} {name}.", **start)
    st.slider("How many", 1, state.MAX_K, key=shown.k_key, on_change=shown.k_heard,
              help=f"The nearest test {noun(ctx.dataset, plural=True)} to the clicked one in the whole {latent_dim}-D "
                   "latent space, by the distance between posterior means (not on this map's 2-D projection)")
    rows, distances = neighbours.neighbours_for(checkpoint, row, shown.k, shown.every)
    sheet, originals = neighbours.neighbour_sheet(checkpoint, row, shown.k, names, shown.every)
    listed = ", ".join(f"{knn.digit_name(r, train_from)} ({names[int(label)]}) {d:.3f}" for r, d, label in
                       zip(rows, distances, arrays["labels"][rows], strict=True))
    among = f"{noun(ctx.dataset, plural=True)}" if shown.every else f"test {noun(ctx.dataset, plural=True)}"
    ui.image(sheet, caption=None if originals else
             f"Decoded posterior means (the {'' if shown.every else 'test '}images are not loaded)",
             alt=f"The {len(rows)} nearest {among} to {name}, with their index, class and distance")
    st.caption(f"{len(rows)} nearest to {name} (distance in the {latent_dim}-D latent space): {listed}")


def slug(text: str) -> str:
    """A projection's name in a file name: 't-SNE' -> 't-sne', 'Latent coordinates' -> 'latent-coordinates'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
