"""Latent map: PCA, t-SNE or UMAP of the encoded test set, coloured by class or by a value per digit, with density
contours; hover a point to see its image, select some."""

from dataclasses import replace

import streamlit as st

from dashboard.components import canvas, map_colour
from dashboard.latent_map import detail, pickers, state
from dashboard.shell import cache, captions, charts, downloads, map_wait, payloads, sidebar
from vae_core import train_points
from vae_core.classes import noun

ctx = sidebar.require_checkpoint()
label = ctx.label(ctx.checkpoint)
st.title(f"Latent map of {label}")
arrays = sidebar.require_projections(ctx)
if arrays is None:
    st.stop()
one, many = noun(ctx.dataset), noun(ctx.dataset, plural=True)
st.markdown(f"Every point is one test {one}'s posterior mean, projected to 2-D (the switch beside the map adds the "
            f"training {many}, drawn fainter); hover a point to see its {one}. "
            "Scroll or pinch to zoom, drag to pan, double-click to see the whole map again. "
            "Click a class in the legend to hide it (double-click to show only it); click a point, or pick Box or "
            f"Lasso above the map and drag (shift adds to the selection), to see the {many} beside the map.")

names = captions.class_names(ctx.dataset)
tsne_count = f"{len(arrays['tsne_index']):,}" if "tsne_index" in arrays else "a sample of the"
colours, lacking = map_colour.options(arrays, ctx.checkpoint.model_config.latent_dim)
every_offered = train_points.cached(ctx.checkpoint)
shown = state.choose(ctx.checkpoint, len(names), label=label, colours=tuple(colours), every_cached=every_offered,
                     help_text=f"t-SNE covers {tsne_count} test {many} and was computed once, "
                     "when the model was cached; UMAP and PCA cover all of them. A 2-D latent space needs no PCA: "
                     "its means are drawn in their own coordinates.")
if shown.every and cache.every_point_for(ctx.checkpoint) is None:  # placed on maps computed again since
    shown = replace(shown, every=False)
    every_offered = False
arrays = cache.map_arrays_for(ctx.checkpoint, shown.every)
method = shown.method
if not charts.map_cached(arrays, method):
    map_wait.missing_map(ctx.checkpoint, method, ctx.dataset)  # computing: shown when it lands, no reload
    st.stop()
map_points = payloads.map_points_for(ctx.checkpoint, method, shown.every)
clicked = shown.clicked(canvas.selected_rows(map_points, shown.selection, shown.hidden))  # its neighbours are ringed
chart, beside = st.columns([3, 1])
with chart:
    split, _ = sidebar.test_data(ctx, f"Thumbnails of the {many} under the cursor and originals of selected ones")
    sheets = {}  # the thumbnails: the test images, and the training images once asked for
    if split is not None:
        sheets["latent_map_sprite"] = payloads.sprite_for(ctx.dataset)
        if shown.every:
            sheets["latent_map_train_sprite"] = payloads.train_sprite_for(ctx.dataset)
    ids = [sprite_id for sprite_id, _ in sheets.values()]
    sprite = ids if len(ids) > 1 else (ids or [None])[0]  # the canvas takes one sheet's id or the sheets' in order
    # the legend, the selection and the zoom come from the view (a link's, or what the map last reported)
    selected = canvas.latent_map(shown.component_key, map_points, names, charts.DIGIT_COLORS, sprite=sprite,
                                 height=620, selection=shown.selection, hidden=shown.hidden, viewport=shown.viewport,
                                 on_change=shown.heard, model=shown.model, method=method, label=label,
                                 neighbours=detail.ringed(ctx.checkpoint, clicked, shown.k, shown.every),
                                 find=shown.find,
                                 colouring=payloads.map_colouring_for(ctx.checkpoint, method, shown.colour,
                                                                      shown.every),
                                 contours=payloads.map_contours_for(ctx.checkpoint, method, shown.contours,
                                                                    shown.every))
    for key, (sprite_id, payload) in sheets.items():  # after the map, whose points then draw before they arrive
        canvas.send_sprite(key, sprite_id, payload)  # once per browser session
    if split is not None and shown.every:
        split, _ = cache.digits_split(ctx.dataset, every=True)
with beside:  # how the map is drawn, then what to find and what was picked on it
    pickers.points_switch(shown, every_offered, ctx.dataset)
    pickers.pickers(shown, tuple(colours), map_colour.missing_note(lacking, ctx.dataset))
    detail.search(shown, map_points, len(arrays["mu"]), ctx.dataset)
    detail.selected_digits(ctx, shown, split, arrays, selected, map_points, names)
    if clicked is not None:
        detail.neighbours_of(ctx, shown, clicked, names)

if not shown.every:  # the test set's export: its rows are the test digits
    downloads.encoded_test_set(ctx.checkpoint, cache.model_for(ctx.checkpoint), split, arrays,
                               captions.class_names(ctx.dataset))
