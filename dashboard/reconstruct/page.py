"""Reconstruct: test images (digits, items) beside their reconstructions (the decoded posterior means)."""

import streamlit as st

from dashboard.reconstruct import state
from dashboard.shell import cache, downloads, images, points, sidebar, ui
from vae_core.classes import noun, with_article

ctx = sidebar.require_checkpoint()
label, one, many = ctx.label(ctx.checkpoint), noun(ctx.dataset), noun(ctx.dataset, plural=True)
st.title(f"Reconstruct test {many} with {label}")
st.markdown(f"Each test {one} is encoded to its posterior mean and decoded again. "
            f"Small latent sizes keep the shape of {with_article(one)} but lose its details.")
split, arrays = sidebar.test_data(ctx, f"Original test {many}")
total = points.test_count(split, arrays)
if total == 0:
    st.stop()

controls, pictures = st.columns([1, 3])
with controls:
    shown = state.controls(many)
count, seed, columns = shown.count, shown.seed, shown.columns
indices = points.sample_indices(total, count, int(seed))
model = cache.model_for(ctx.checkpoint)
with pictures:
    if split is not None:
        ui.image(images.test_images_png(split, indices, columns), caption=f"Original test {many}",
                 alt=f"{count} test {many}, {columns} per row: test images #" + ", ".join(map(str, indices)))
    recons = images.decoded_means_png(model, split, arrays, indices, columns)
    ui.image(recons, caption=f"Reconstructions by {label} (decoded posterior means)",
             alt=f"{label}'s reconstructions of the same {count} test {many}, in the same order: each decoded from "
                 "its posterior mean")
    st.caption("Test images #" + ", ".join(str(i) for i in indices))
    downloads.figure(f"{ctx.checkpoint.name}-reconstructions-seed{seed}", recons, None, "reconstruct")
