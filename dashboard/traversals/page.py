"""Traversals: one row per latent dimension, most informative first, each moved from -3 to +3 around a start point."""

import streamlit as st

from dashboard.shell import cache, downloads, points, sidebar, ui
from dashboard.traversals import pictures, state
from vae_core import exports
from vae_core.classes import class_name, noun, with_article

ctx = sidebar.require_checkpoint()
checkpoint, label = ctx.checkpoint, ctx.label(ctx.checkpoint)
one = noun(ctx.dataset)  # "digit" or "item"
latent_dim = checkpoint.model_config.latent_dim
model, arrays = cache.model_for(checkpoint), cache.projections_for(checkpoint)
split, _ = cache.test_split(ctx.dataset)
total = points.test_count(split, arrays)
st.title(f"Traversals: {label}")

shown = state.controls(latent_dim, total, one, lambda index: f"#{index} is "
                      + with_article(class_name(ctx.dataset, points.test_label(split, arrays, index))))
rows, columns = shown.rows, shown.columns

start = points.base_point(shown.mode, latent_dim, shown.seed, shown.index, model, split, arrays)
figure = pictures.traversal_for(checkpoint, start, rows, columns)
hidden = latent_dim - rows
collapsed_rows = len(figure.marked)
st.markdown(
    f"Each row changes one latent dimension, the others held at the start point (the middle column). Rows are "
    f"ordered by {cache.latent_order_for(checkpoint)[2]}, the number (nats) after each name."
    + (f" **{collapsed_rows} amber row(s)**: collapsed dimensions, which the model does not use, so moving "
       "them changes nothing." if collapsed_rows else "")
    + (f" The {hidden} less informative dimension(s) are hidden: turn on *Show all*." if hidden else ""))

factor = 3 if rows <= state.ROWS_SHOWN else 2
png = exports.rows_png(figure.images, figure.row_labels, figure.column_labels, figure.marked, factor=factor)
ui.image(png, alt=f"Traversal: {rows} rows, one per latent dimension, each varying it from -3 to +3 across "
                  f"{columns} columns, the start point in the middle column"
                  + (f"; {collapsed_rows} collapsed row(s) marked in amber" if collapsed_rows else ""))
downloads.figure(f"{checkpoint.name}-traversal", png, lambda: exports.rows_gif(figure.images), "traversals")
