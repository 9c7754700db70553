"""Your digit: draw a digit or upload a photo; the model encodes it, decodes it and places it on the latent map."""

import streamlit as st

from dashboard.components import canvas
from dashboard.shell import cache, captions, charts, images, links, payloads, points, sidebar, ui
from dashboard.your_digit import nearby, own_digit, state
from vae_core.classes import noun, with_article

ctx = sidebar.require_checkpoint()
checkpoint, label = ctx.checkpoint, ctx.label(ctx.checkpoint)
one, many = noun(ctx.dataset), noun(ctx.dataset, plural=True)
st.title(f"Your {one}: {label}")
if checkpoint.model_config.image_shape != (1, 28, 28):  # the pad and the uploads are prepared as MNIST's digits
    channels, side, _ = checkpoint.model_config.image_shape
    st.info(f"This page prepares a drawing or a photo as MNIST's 28 x 28 grey digits; {label} reads "
            f"{'RGB' if channels == 3 else 'grey'} images of {side} x {side} pixels. Pick an MNIST or Fashion-MNIST "
            "model in the sidebar.")
    st.stop()
st.markdown(f"Draw {with_article(one)} on the black square, or upload a photo of one. It is prepared as MNIST's "
            "digits were "
            "(scaled into a 20 x 20 box, centred by its centre of mass in 28 x 28), then this model encodes it, "
            "decodes its mean, and the classifier reads both.")

pad, result, where = st.columns([1.05, 1, 1.6], gap="medium")
with pad:
    given = state.controls(f"…or upload a PNG or JPEG of {with_article(one)}")
image, error = own_digit.prepared(given.source, given.pixels, given.upload)
mu = None
with result:
    if error:
        st.error(error)
    elif image is None:
        st.info(f"Nothing to encode yet: draw {with_article(one)}, or upload a picture of one.")
    else:
        model, reader = cache.model_for(checkpoint), cache.classifier(ctx.dataset)
        mu, decoded = own_digit.encode(model, image)
        mine, theirs = st.columns(2)
        with mine:
            ui.image(images.grid_png(image[None], 1, 6), caption="As MNIST would store it",
                     alt="Your digit as the model sees it: 28 by 28 grey pixels, centred as in MNIST")
            ui.reading(ui.reading_of_image(image, reader[0], ctx.dataset), reader, ctx.dataset)
        with theirs:
            ui.image(images.grid_png(decoded[None], 1, 6), caption="Decoded from its mean",
                     alt="Your digit encoded to its posterior mean and decoded again by the model")
            if reader[0] is not None:
                st.markdown(ui.reading_of_image(decoded, reader[0], ctx.dataset))
        st.caption("Its mean: " + ", ".join(f"{v:.2f}" for v in mu[:8]) + (" …" if len(mu) > 8 else ""))
        links.explorer_link("Explore from here", "Opens the Latent explorer with its sliders at this digit's mean.",
                            start=points.OWN_DIGIT, at=links.point_text(mu))

with where:
    arrays, projection = cache.projections_for(checkpoint), own_digit.map_projection_for(checkpoint)
    if arrays is None or projection is None:
        sidebar.require_projections(ctx)
        st.stop()
    method = charts.map_methods(checkpoint.model_config.latent_dim)[0]
    split, _ = sidebar.test_data(ctx, f"Thumbnails of the {many} under the cursor")
    sprite = None
    if split is not None:
        sprite, payload = payloads.sprite_for(ctx.dataset)
        canvas.send_sprite("draw_sprite", sprite, payload)
    star = None
    if mu is not None:
        x, y = own_digit.map_position(projection, mu)
        star = {"x": x, "y": y, "label": f"your {one}"}
    # keyed by model: a model switch mounts the new model's map, never the star on the old cloud
    found = nearby.nearest(checkpoint, mu, state.chosen_count()) if mu is not None else ([], [])
    near = found[0]  # ringed on the map, listed below it
    canvas.latent_map(f"draw_map_{checkpoint.name}", payloads.map_points_for(checkpoint, method),
                      captions.class_names(ctx.dataset), charts.DIGIT_COLORS, sprite=sprite, marker=star, height=430,
                      selectable=False, model=checkpoint.name, method=method, label=label,
                      neighbours={"row": None, "rows": near} if near else None,
                      note=(f"The star is your {one}'s mean" if star else f"A star will mark your {one}'s mean")
                      + f" among the test {many}' means" + (f", its {len(near)} nearest ringed" if near else "")
                      + (f". Hover a dot to see its {one}." if sprite else "."))

if mu is not None:  # the test digits nearest the drawing, found as the Latent map finds a clicked point's
    nearby.nearest_digits(ctx, found, split, captions.class_names(ctx.dataset))
