"""Latent explorer: sliders that decode any latent point, a clickable plane, a manifold grid, interpolation."""

from functools import partial

import streamlit as st

from dashboard.explorer import state, widgets
from dashboard.shell import cache, captions, downloads, links, points, sidebar, ui

ctx = sidebar.require_checkpoint()
checkpoint, label = ctx.checkpoint, ctx.label(ctx.checkpoint)
latent_dim = checkpoint.model_config.latent_dim
model, arrays = cache.model_for(checkpoint), cache.projections_for(checkpoint)
split, _ = cache.test_split(ctx.dataset)
order, scores, order_note = cache.latent_order_for(checkpoint)
metrics, reader = cache.metrics_for(checkpoint), cache.classifier(ctx.dataset)  # reader: (classifier, why absent)
collapsed = points.collapsed_dims(latent_dim, metrics, scores)
total = points.test_count(split, arrays)
prefix = state.slider_prefix(checkpoint.name)
st.title(f"Latent explorer: {label}")

state.on_model(checkpoint.name)  # another model's dimension pickers go back to their defaults
links.restore_explorer(checkpoint)  # a shared link's start point given as a whole vector ("at")
own = sidebar.own_digit(checkpoint)
mode, seed, index, shown = widgets.start_controls(split, arrays, total, latent_dim, own is not None)
links.share_explorer(mode, own)
base = points.base_point(mode, latent_dim, seed, index, model, split, arrays, own)
dims = list(range(latent_dim)) if latent_dim <= 2 else order[:shown]  # the plane's axes are z[0], z[1]
signature = (checkpoint.name, mode, seed, index) + ((tuple(own),) if mode == points.OWN_DIGIT else ())
sidebar.sync_sliders(prefix, dims, base, signature)
sidebar.store_slider_values(prefix, links.requested_values("z", latent_dim))  # a shared link's slider values


live = widgets.live_toggle("explorer_live")
if not live and latent_dim == 2:
    plane, panel = st.columns([1, 1])
    with plane:
        chart_key = f"explorer_plane_{checkpoint.name}"
        st.plotly_chart(cache.latent_plane_figure(checkpoint), key=chart_key, selection_mode="points",
                        on_select=partial(sidebar.set_sliders_from_click, chart_key, prefix))
    with panel:
        widgets.server_sliders(model, base, dims, [captions.slider_label(d, scores, collapsed) for d in dims],
                               prefix, reader, ctx.dataset)
else:
    if latent_dim > 2:
        note = captions.collapsed_note(collapsed, latent_dim, metrics is not None)
        held = "; the ones without a slider stay at the start point" if shown < latent_dim else ""
        st.caption(f"Dimensions ordered by {order_note}{held}." + (f" {note}" if note else ""))
    if live:
        plane = widgets.live_plane(checkpoint, widgets.plane_axes(order, latent_dim))
        widgets.live_sliders(checkpoint, model, base, dims, [captions.slider_text(d, scores, collapsed) for d in dims],
                             prefix, repr(signature), plane, reader, ctx.dataset)
    else:
        widgets.server_sliders(model, base, dims, [captions.slider_label(d, scores, collapsed) for d in dims],
                               prefix, reader, ctx.dataset)

st.subheader("Manifold grid")
grid_controls, grid = st.columns([1, 3])
with grid_controls:
    if latent_dim == 2:
        pair = (0, 1)
    else:
        pair = widgets.dimension_pair(order, (state.GRID_X, state.GRID_Y),
                                      ("Horizontal dimension", "Vertical dimension"), columns=(st, st))
    steps = st.slider("Grid size", 5, 25, 15, key="grid_steps", bind="query-params")
    st.caption(f"z[{pair[0]}] left to right and z[{pair[1]}] bottom to top, at the 5% to 95% quantiles of "
               "N(0, 1); other dimensions held at the start point.")
with grid:
    grid_png = cache.manifold_png(checkpoint, base, pair, steps)
    ui.image(grid_png)
    downloads.figure(f"{checkpoint.name}-grid-z{pair[0]}-z{pair[1]}", grid_png, None, "explorer_grid")

st.subheader("Interpolation between two test digits")
if not total:
    st.info("Interpolation needs this model's cached means (`vae-explorer project`) "
            "or the test images in VAE_DATA_DIR.")
    st.stop()
ends, strip = st.columns([1, 3])
with ends:
    for key in ("from", "to"):
        sidebar.clamp_state(key, 0, total - 1)
    first = st.number_input("From test digit", 0, total - 1, 0, key="from", bind="query-params")
    last = st.number_input("To test digit", 0, total - 1, min(1, total - 1), key="to", bind="query-params")
    steps = st.slider("Steps", 3, 20, 10, key="steps", bind="query-params")
with strip:
    strip_png = cache.interpolation_png(checkpoint, first, last, steps, factor=4)
    ui.image(strip_png, caption=f"From #{first} (a {points.test_label(split, arrays, first)}) to #{last} "
                                     f"(a {points.test_label(split, arrays, last)}), decoded along a straight line")
    downloads.figure(f"{checkpoint.name}-interpolation-{first}-{last}", strip_png,
                     downloads.line_gif(model, *points.test_means(model, split, arrays, [first, last]), steps),
                     "explorer_interpolation")
