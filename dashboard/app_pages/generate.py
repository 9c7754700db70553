"""Generate: digits decoded from random latent vectors z ~ N(0, temperature² I)."""

import streamlit as st

from dashboard import cache, common

ctx = common.require_checkpoint()
label = ctx.label(ctx.checkpoint)
st.title(f"Generate digits with {label}")
st.markdown("Each digit is the decoder's mean image for one random latent vector drawn from the prior. "
            "A lower temperature draws closer to the origin: cleaner, more average digits.")

controls, picture = st.columns([1, 3])
with controls:
    seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="generate_seed")
    count = st.slider("Number of digits", 1, 100, 40, key="generate_count")
    temperature = st.slider("Temperature (prior std scale)", 0.1, 2.0, 1.0, 0.05, key="generate_temperature")
    columns = st.slider("Digits per row", 4, 20, 10, key="generate_columns")
png = cache.generated_grid_png(ctx.checkpoint, seed, count, temperature, columns)
with picture:
    common.image(png, caption=f"{count} samples, seed {seed}, temperature {temperature:.2f}")
with controls:
    st.download_button("Download grid as PNG", png, file_name=f"{ctx.checkpoint.name}-seed{seed}.png",
                       mime="image/png", key="generate_download")
