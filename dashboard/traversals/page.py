"""Traversals: one row per latent dimension, most informative first, each moved from -3 to +3 around a start point."""

import streamlit as st

from dashboard.shell import cache, downloads, points, sidebar, ui, view
from dashboard.traversals import pictures
from vae_core import exports
from vae_core.classes import class_name, noun, with_article

ROWS_SHOWN = 10  # beyond this, rows wait behind "show all" so a z = 50 figure stays readable

ctx = sidebar.require_checkpoint()
checkpoint, label = ctx.checkpoint, ctx.label(ctx.checkpoint)
one = noun(ctx.dataset)  # "digit" or "item"
latent_dim = checkpoint.model_config.latent_dim
model, arrays = cache.model_for(checkpoint), cache.projections_for(checkpoint)
split, _ = cache.test_split(ctx.dataset)
total = points.test_count(split, arrays)
st.title(f"Traversals: {label}")

modes = list(points.BASE_MODES) if total else list(points.BASE_MODES[:2])
controls = st.columns([5, 2, 2, 3])
mode = controls[0].radio("Start from", modes, horizontal=True, key="start", bind="query-params",
                         format_func=lambda m: {points.BASE_MODES[0]: "Prior mean",
                                                points.BASE_MODES[2]: f"Test {one}"}.get(m, m))
seed, index = 0, 0
if mode == points.BASE_MODES[1]:
    seed = controls[1].number_input("Prior draw seed", min_value=0, max_value=2**31 - 1, value=0, step=1,
                                    key="seed", bind="query-params")
elif mode == points.BASE_MODES[2]:
    sidebar.clamp_state("digit", 0, total - 1)
    index = controls[1].number_input(f"Test {one} (0 to {total - 1})", min_value=0, max_value=total - 1, value=0,
                                     step=1, key="digit", bind="query-params")
    controls[1].caption(f"#{index} is {with_article(class_name(ctx.dataset, points.test_label(split, arrays, index)))}")
columns = controls[2].slider("Columns", 3, 15, 9, step=2, key="columns", bind="query-params",
                             help="Steps from -3 to +3; an odd count puts the start point in the middle column.")
columns = view.insist("columns", columns, 9, lambda n: n % 2 == 1)  # the start point is the middle column
show_all = latent_dim > ROWS_SHOWN and controls[3].toggle(f"Show all {latent_dim} dimensions",
                                                          key="all", bind="query-params")
rows = latent_dim if show_all or latent_dim <= ROWS_SHOWN else ROWS_SHOWN

start = points.base_point(mode, latent_dim, int(seed), int(index), model, split, arrays)
figure = pictures.traversal_for(checkpoint, start, rows, columns)
hidden = latent_dim - rows
collapsed_rows = len(figure.marked)
st.markdown(
    f"Each row changes one latent dimension, the others held at the start point (the middle column). Rows are "
    f"ordered by {cache.latent_order_for(checkpoint)[2]}, the number (nats) after each name."
    + (f" **{collapsed_rows} amber row(s)**: collapsed dimensions, which the model does not use, so moving "
       "them changes nothing." if collapsed_rows else "")
    + (f" The {hidden} less informative dimension(s) are hidden: turn on *Show all*." if hidden else ""))

factor = 3 if rows <= ROWS_SHOWN else 2
png = exports.rows_png(figure.images, figure.row_labels, figure.column_labels, figure.marked, factor=factor)
ui.image(png, alt=f"Traversal: {rows} rows, one per latent dimension, each varying it from -3 to +3 across "
                  f"{columns} columns, the start point in the middle column"
                  + (f"; {collapsed_rows} collapsed row(s) marked in amber" if collapsed_rows else ""))
downloads.figure(f"{checkpoint.name}-traversal", png, lambda: exports.rows_gif(figure.images), "traversals")
