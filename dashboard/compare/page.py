"""Compare models: one column per setting of the chosen axis, the other settings held fixed.

The columns wrap into rows (``columns.PER_ROW``), so eight latent sizes or more stay readable.
"""

import streamlit as st

from dashboard.compare import axes, columns, widgets
from dashboard.shell import cache, captions, charts, images, points, sidebar, tables, ui

ctx = sidebar.require_checkpoint()
st.title("Compare models")
axis, held, models = widgets.compare_axis(ctx)
if not models:
    st.info(f"No model has {axes.summary(axis, held)}: pick other settings to hold fixed.")
    st.stop()
label = {c.name: axes.column_label(c, axis, models) for c in models}
one, many = widgets.image_noun(models), widgets.image_noun(models, plural=True)
st.markdown(f"What does the **{axis}** change? One column per {axis}, holding {axes.summary(axis, held)}; "
            f"every column decodes the **same random seed** and reconstructs the **same test {many}**.")

controls = st.columns(4)
seed = controls[0].number_input("Generation seed (shared)", min_value=0, value=0, step=1, key="seed",
                                bind="query-params")
temperature = controls[1].slider("Temperature", 0.1, 2.0, 1.0, 0.05, key="temperature", bind="query-params")
pick = controls[2].number_input(f"Test {one} seed (shared)", min_value=0, value=0, step=1, key="digits",
                                bind="query-params")
method = controls[3].radio("Latent maps", ["t-SNE", "UMAP", "PCA"], horizontal=True, key="map", bind="query-params",
                          help="z = 2 needs no PCA: its map shows the two latent coordinates as they are.")

splits = widgets.compare_test_splits(models)  # dataset -> test split or None
totals = [points.test_count(splits[c.train_config.dataset], cache.projections_for(c)) for c in models]
indices = points.sample_indices(min(totals), 8, int(pick)) if min(totals) else []
one_dataset = len(splits) == 1
if one_dataset and next(iter(splits.values())) is not None and indices:
    ui.image(images.test_images_png(next(iter(splits.values())), indices, 8, factor=2),
             caption=f"The test {many} reconstructed below",
             alt=f"{len(indices)} test {many} in a row, the ones each model reconstructs below: test images #"
                 + ", ".join(map(str, indices)))

st.subheader(f"Walk through every {axis}")
widgets.latent_walk(models, lambda c: label[c.name], splits, min(totals))

columns.grid(models, columns.Shared(int(seed), float(temperature), indices, method, splits, label))

names = captions.class_names(next(iter(splits))) if one_dataset else None  # several data sets: class numbers
st.markdown(charts.digit_legend_html(names), unsafe_allow_html=True)

st.subheader("Final metrics")
label_of = lambda c: label[c.name]  # noqa: E731
table = tables.metrics_display(tables.metrics_table(models, label_of), models, label_of)
aligned = {name: st.column_config.TextColumn(alignment="right") for name in table.columns if name != "better"}
st.dataframe(table, width="stretch", height="content",
             column_config={**aligned, "better": st.column_config.TextColumn(width=200)})
st.caption(tables.LOSS_DEFINITION)

st.subheader(f"Metrics against {axis}")
missing = [label[c.name] for c in models if cache.metrics_for(c) is None]
if missing:
    st.info(captions.missing_metrics_sentence(missing))
if len(missing) < len(models):
    st.caption(captions.source_caption([m for m in map(cache.metrics_for, models) if m],
                                       models[0].train_config.dataset if one_dataset else ""))
    metric_charts = widgets.metric_figures(models, tuple(label[c.name] for c in models), axis)
    for row in range(0, len(metric_charts), 3):
        for column, (name, meaning, figure) in zip(st.columns(3), metric_charts[row:row + 3], strict=False):
            with column:
                st.plotly_chart(figure, key=f"compare_metric_{name}")
                st.caption(captions.better_caption(meaning))

st.subheader("Loss per epoch")
series = [(label[c.name], c.history) for c in models]
left, right = st.columns(2)
left.plotly_chart(charts.overlaid_losses(series, "test_loss", "Test loss per epoch"), key="compare_test_loss")
right.plotly_chart(charts.overlaid_losses(series, "test_kl", "Test KL per epoch", "KL per image (nats)"),
                   key="compare_test_kl")
