"""Reconstruct: test digits beside their reconstructions (the decoded posterior means)."""

import streamlit as st

from dashboard.shell import cache, downloads, images, points, sidebar, ui

ctx = sidebar.require_checkpoint()
label = ctx.label(ctx.checkpoint)
st.title(f"Reconstruct test digits with {label}")
st.markdown("Each test digit is encoded to its posterior mean and decoded again. "
            "Small latent sizes keep the shape of a digit but lose its details.")
split, arrays = sidebar.test_data(ctx, "Original test digits")
total = points.test_count(split, arrays)
if total == 0:
    st.stop()

controls, pictures = st.columns([1, 3])
with controls:
    count = st.slider("Number of test digits", 5, 50, 20, step=5, key="reconstruct_count")
    seed = st.number_input("Seed for picking test digits", min_value=0, value=0, step=1, key="reconstruct_seed")
    columns = st.slider("Digits per row", 5, 25, 10, key="reconstruct_columns")
indices = points.sample_indices(total, count, int(seed))
model = cache.model_for(ctx.checkpoint)
with pictures:
    if split is not None:
        ui.image(images.test_images_png(split, indices, columns), caption="Original test digits")
    recons = images.decoded_means_png(model, split, arrays, indices, columns)
    ui.image(recons, caption=f"Reconstructions by {label} (decoded posterior means)")
    st.caption("Test images #" + ", ".join(str(i) for i in indices))
    downloads.figure(f"{ctx.checkpoint.name}-reconstructions-seed{seed}", recons, None, "reconstruct")
