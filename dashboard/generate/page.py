"""Generate: images (digits, items) decoded from random latent vectors z ~ N(0, temperature² I)."""

import streamlit as st

from dashboard.generate import pictures, state
from dashboard.shell import cache, captions, images, sidebar, ui
from vae_core.classes import noun

ctx = sidebar.require_checkpoint()
label, one, many = ctx.label(ctx.checkpoint), noun(ctx.dataset), noun(ctx.dataset, plural=True)
st.title(f"Generate {many} with {label}")
st.markdown(f"Each {one} is the decoder's mean image for one random latent vector drawn from the prior. "
            f"A lower temperature draws closer to the origin: cleaner, more average {many}.")

controls, picture = st.columns([1, 3])
with controls:
    shown = state.controls(one, many)
seed, count, temperature, columns = shown.seed, shown.count, shown.temperature, shown.columns
reader = cache.classifier(ctx.dataset) if shown.labels else (None, None)  # (classifier, why absent)
_, distances, data_note = (pictures.nearest_training(ctx.checkpoint, seed, count, temperature) if shown.nearest
                           else (None, None, None))
labelled, nearest = reader[0] is not None, distances is not None
if labelled or nearest:
    png = pictures.annotated_grid_png(ctx.checkpoint, seed, count, temperature, columns, labelled, nearest)
else:
    png = images.generated_grid_png_for(ctx.checkpoint, seed, count, temperature, columns)
with picture:
    if reader[1]:
        st.info(captions.classifier_missing_sentence(reader[1], ctx.dataset))
    if data_note:
        st.info(data_note)
    ui.image(png, caption=f"{count} samples, seed {seed}, temperature {temperature:.2f}",
             alt=f"{count} {many} decoded from random latent vectors, seed {seed}, temperature {temperature:.2f}, "
                 f"{columns} per row" + (", each with the classifier's label" if labelled else "")
                 + (", each above its nearest training image" if nearest else ""))
    if labelled:
        st.caption(captions.labels_caption(ctx.dataset))
    if nearest:
        st.caption(captions.nearest_caption(distances, cache.metrics_for(ctx.checkpoint), ctx.dataset))
with controls:
    st.download_button("Download grid as PNG", png, file_name=f"{ctx.checkpoint.name}-seed{seed}.png",
                       mime="image/png", key="generate_download")
