"""Class arithmetic: each class's mean latent vector, a morph between two of them, and a class direction
added to one test image."""

import streamlit as st

from dashboard.arithmetic import pictures, state
from dashboard.shell import cache, captions, downloads, images, points, sidebar, ui
from vae_core import exports, figures
from vae_core.classes import noun, with_article

ctx = sidebar.require_checkpoint()
checkpoint, label = ctx.checkpoint, ctx.label(ctx.checkpoint)
model, arrays = cache.model_for(checkpoint), cache.projections_for(checkpoint)
split, _ = cache.test_split(ctx.dataset)
names, one = captions.class_names(ctx.dataset), noun(ctx.dataset)  # one: "digit" or "item"
st.title(f"Class arithmetic: {label}")
means = pictures.class_means_for(checkpoint)
if means is None:
    st.info("Class means need this model's cached means (`vae-explorer project`) or the test images in VAE_DATA_DIR.")
    st.stop()
present = [k for k in range(len(means)) if not means[k].isnan().any()]
total = points.test_count(split, arrays)

st.subheader("The mean of each class")
st.markdown("Average the posterior means of every test image of a class and decode the result: the model's "
            "idea of a typical member. A blurry mean says the class is spread over several styles.")
png = exports.strip_png(figures.class_mean_images(model, means), list(names), factor=3)
ui.image(png, alt=f"One image per class, labelled {', '.join(names)}: the decoded average of the posterior means of "
                  "the class's test images")
downloads.figure(f"{checkpoint.name}-class-means", png, None, "arithmetic_means")


def strip(decoded, labels, name: str, key: str, alt: str) -> None:
    """A strip of decoded images [N, 28, 28] with its PNG and GIF downloads; ``alt`` says what it shows."""
    picture = exports.strip_png(decoded, labels, factor=3)
    ui.image(picture, alt=alt)
    downloads.figure(f"{checkpoint.name}-{name}", picture, lambda: exports.strip_gif(decoded), key)


st.subheader("Morph from one class to another")
morph_controls, morph_strip = st.container(), st.container()
st.subheader(f"Add a class direction to {with_article(one)}")
if total:
    st.markdown(f"Take one test {one}'s mean and add the difference between two class means: the {one} keeps its "
                "style (slant, thickness) while its class moves towards the other, if the latent space is that tidy.")
else:
    st.info(f"This needs a test {one}: this model's cached means (`vae-explorer project`) or VAE_DATA_DIR.")
shown = state.controls(present, names, total, one, morph_controls, st.container())  # each section's own widgets

first, last, steps = shown.morph.first, shown.morph.last, shown.morph.steps
with morph_strip:
    strip(pictures.morph(checkpoint, first, last, steps), figures.morph_labels(steps, first, last, names),
          f"morph-{first}-{last}", "arithmetic_morph",
          alt=f"{steps} images decoded along the line from the mean of class {names[first]} to that of class "
              f"{names[last]}")
if shown.direction is None:
    st.stop()
index, first, last, strength = (shown.direction.index, shown.direction.first, shown.direction.last,
                                shown.direction.strength)
start = points.test_means(model, split, arrays, [index])[0]
if split is not None and points.split_matches(split, arrays):
    ui.image(images.test_images_png(split, [index], 1, factor=3),
             caption=f"Test {one} #{index}, {with_article(names[points.test_label(split, arrays, index)])}",
             alt=f"Test {one} #{index} as stored in the test set")
digits = pictures.direction(checkpoint, start, first, last, 10, strength)
strip(digits, figures.strength_labels(10, strength), f"direction-{index}-{first}-{last}", "arithmetic_direction",
      alt=f"Test {one} #{index} decoded from its mean, then with s times (mean of class {names[last]} minus mean of "
          f"class {names[first]}) added, for 10 values of s up to {strength:.2f}")
st.caption(f"Left: test {one} #{index} decoded from its mean; then + s x (mean of {names[last]} - mean of "
           f"{names[first]}) for s up to {strength:g}.")
