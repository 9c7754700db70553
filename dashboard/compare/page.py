"""Compare models: one column per setting of the chosen axis, the other settings held fixed.

The columns wrap into rows (``columns.PER_ROW``), so eight latent sizes or more stay readable.
"""

import streamlit as st

from dashboard.compare import axes, columns, state, widgets
from dashboard.shell import cache, captions, charts, images, points, sidebar, tables, ui

ctx = sidebar.require_checkpoint()
st.title("Compare models")
pool = ctx.everything or ctx.checkpoints
shown = state.controls(pool, ctx.checkpoint)
axis, models = shown.axis, shown.models(pool)
if not models:
    st.info(f"No model has {shown.summary()}: pick other settings to hold fixed.")
    st.stop()
label = {c.name: axes.column_label(c, axis, models) for c in models}
many = axes.image_noun(models, plural=True)
st.markdown(f"What does the **{axis}** change? One column per {axis}, holding {shown.summary()}; "
            f"every column decodes the **same random seed** and reconstructs the **same test {many}**.")

splits = widgets.compare_test_splits(models)  # dataset -> test split or None
totals = [points.test_count(splits[c.train_config.dataset], cache.projections_for(c)) for c in models]
indices = points.sample_indices(min(totals), 8, shown.digits) if min(totals) else []
one_dataset = len(splits) == 1
if one_dataset and next(iter(splits.values())) is not None and indices:
    ui.image(images.test_images_png(next(iter(splits.values())), indices, 8, factor=2),
             caption=f"The test {many} reconstructed below",
             alt=f"{len(indices)} test {many} in a row, the ones each model reconstructs below: test images #"
                 + ", ".join(map(str, indices)))

st.subheader(f"Walk through every {axis}")
widgets.latent_walk(models, lambda c: label[c.name], splits, min(totals))

columns.grid(models, columns.Shared(shown.seed, shown.temperature, indices, shown.method, splits, label))

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
