"""Latent explorer: sliders that decode any latent point, a clickable plane, a manifold grid, interpolation."""


import streamlit as st

from dashboard.explorer import pictures, state, widgets
from dashboard.shell import cache, captions, downloads, links, points, sidebar, ui, view
from vae_core.classes import class_name, noun, with_article

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
state.remember_own_digit(checkpoint, links.requested_start(latent_dim))  # a link's whole start point ("at")
own = state.own_digit(checkpoint)
training = points.training_digits(cache.every_point_for(checkpoint))  # None until they are placed on the maps
mode, seed, index, shown = widgets.start_controls(split, arrays, total, latent_dim, ctx.dataset, own is not None,
                                                  training)
links.share_explorer(mode, own)
base = points.base_point(mode, latent_dim, seed, index, model, split, arrays, own, training)
dims = list(range(latent_dim)) if latent_dim <= 2 else order[:shown]  # the plane's axes are z[0], z[1]
signature = (checkpoint.name, mode, seed, index) + ((tuple(own),) if mode == points.OWN_DIGIT else ())
state.sync_sliders(prefix, dims, base, signature)
state.store_slider_values(prefix, links.requested_values("z", latent_dim))  # a shared link's slider values


if latent_dim > 2:
    note = captions.collapsed_note(collapsed, latent_dim, metrics is not None)
    held = "; the ones without a slider stay at the start point" if shown < latent_dim else ""
    st.caption(f"Dimensions ordered by {order_note}{held}." + (f" {note}" if note else ""))
plane = widgets.live_plane(checkpoint, widgets.plane_axes(order, latent_dim))
widgets.live_sliders(checkpoint, model, base, dims, [captions.slider_text(d, scores, collapsed) for d in dims],
                     prefix, repr(signature), plane, reader, ctx.dataset)

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
    grid_png = pictures.manifold_png(checkpoint, base, pair, steps)
    ui.image(grid_png, alt=f"A {steps} by {steps} grid of images decoded with z[{pair[0]}] varying left to right and "
                           f"z[{pair[1]}] bottom to top, the other dimensions at the start point")
    downloads.figure(f"{checkpoint.name}-grid-z{pair[0]}-z{pair[1]}", grid_png, None, "explorer_grid")

one, many = noun(ctx.dataset), noun(ctx.dataset, plural=True)
st.subheader(f"Interpolation between two test {many}")
if not total:
    st.info("Interpolation needs this model's cached means (`vae-explorer project`) "
            "or the test images in VAE_DATA_DIR.")
    st.stop()
ends, strip = st.columns([1, 3])
with ends:
    for key in ("from", "to"):
        view.clamp_state(key, 0, total - 1)
    first = st.number_input(f"From test {one}", 0, total - 1, 0, key="from", bind="query-params")
    last = st.number_input(f"To test {one}", 0, total - 1, min(1, total - 1), key="to", bind="query-params")
    steps = st.slider("Steps", 3, 20, 10, key="steps", bind="query-params")
with strip:
    strip_png = pictures.interpolation_png(checkpoint, first, last, steps, factor=4)
    ends = [with_article(class_name(ctx.dataset, points.test_label(split, arrays, i))) for i in (first, last)]
    ui.image(strip_png, caption=f"From #{first} ({ends[0]}) to #{last} ({ends[1]}), decoded along a straight line",
             alt=f"{steps} images decoded along a straight line in latent space, from the mean of test image "
                 f"#{first} to that of #{last}")
    downloads.figure(f"{checkpoint.name}-interpolation-{first}-{last}", strip_png,
                     downloads.line_gif(model, *points.test_means(model, split, arrays, [first, last]), steps),
                     "explorer_interpolation")
