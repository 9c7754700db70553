"""Compare latent sizes: one column per model, same seed and same test digits for each."""

import streamlit as st

from dashboard import cache, captions, charts, images, points, session, tables, widgets

ctx = session.require_checkpoint()
models = ctx.checkpoints
st.title("Compare latent sizes")
st.markdown("How does the number of latent variables change what the VAE generates? Each column is one "
            "latent size; every column decodes the **same random seed** and reconstructs the **same test digits**.")

controls = st.columns(4)
seed = controls[0].number_input("Generation seed (shared)", min_value=0, value=0, step=1, key="compare_seed")
temperature = controls[1].slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="compare_temperature")
pick = controls[2].number_input("Test digit seed (shared)", min_value=0, value=0, step=1, key="compare_digits")
method = controls[3].radio("Latent maps", ["t-SNE", "PCA"], horizontal=True, key="compare_map_method",
                          help="z = 2 needs no PCA: its map shows the two latent coordinates as they are.")

split, _ = session.test_data(ctx, "Original test digits")
totals = [points.test_count(split, cache.projections_for(c)) for c in models]
indices = points.sample_indices(min(totals), 8, int(pick)) if min(totals) else []
if split is not None and indices:
    widgets.image(images.test_images_png(split, indices, 8, factor=2), caption="The test digits reconstructed below")

st.subheader("Walk through every latent size")
widgets.latent_walk(ctx, models, split, min(totals))

columns = st.columns(len(models))
for checkpoint, column in zip(models, columns, strict=True):
    with column:
        st.subheader(ctx.label(checkpoint))
        widgets.image(cache.generated_grid_png(checkpoint, seed, 16, temperature, 4), width="stretch",
                     caption=f"16 samples, seed {seed}")
        arrays = cache.projections_for(checkpoint)
        if indices:
            png = images.decoded_means_png(cache.model_for(checkpoint), split, arrays, indices, 4)
            widgets.image(png, width="stretch", caption="Reconstructions")
        if arrays is not None:
            as_is = method == "PCA" and checkpoint.model_config.latent_dim == 2
            st.plotly_chart(cache.latent_map_figure(checkpoint, method, max_points=2000, height=210, show_legend=False,
                                                    title="2-D means, as is" if as_is else f"{method} of test means"),
                            key=f"compare_map_{checkpoint.name}")
        else:
            st.caption("No cached latent map (`vae-explorer project`).")

st.markdown(charts.digit_legend_html(), unsafe_allow_html=True)

st.subheader("Final metrics")
table = tables.metrics_display(tables.metrics_table(models), models)
aligned = {label: st.column_config.TextColumn(alignment="right") for label in table.columns if label != "better"}
st.dataframe(table, width="stretch", height="content",
             column_config={**aligned, "better": st.column_config.TextColumn(width=200)})
st.caption(tables.LOSS_DEFINITION)

st.subheader("Metrics against latent size")
missing = [ctx.label(c) for c in models if cache.metrics_for(c) is None]
if missing:
    st.info(captions.missing_metrics_sentence(missing))
if len(missing) < len(models):
    st.caption(captions.source_caption([m for m in map(cache.metrics_for, models) if m]))
    metric_charts = cache.metric_figures(models, [ctx.label(c) for c in models])
    for row in range(0, len(metric_charts), 3):
        for column, (label, meaning, figure) in zip(st.columns(3), metric_charts[row:row + 3], strict=False):
            with column:
                st.plotly_chart(figure, key=f"compare_metric_{label}")
                st.caption(captions.better_caption(meaning))

st.subheader("Loss per epoch")
series = [(ctx.label(c), c.history) for c in models]
left, right = st.columns(2)
left.plotly_chart(charts.overlaid_losses(series, "test_loss", "Test loss per epoch"), key="compare_test_loss")
right.plotly_chart(charts.overlaid_losses(series, "test_kl", "Test KL per epoch", "KL per image (nats)"),
                   key="compare_test_kl")
