"""Latent map: PCA or t-SNE of the encoded test set, coloured by digit; select points to see them."""

import streamlit as st

from dashboard import cache, captions, charts, downloads, images, points, session, widgets

ctx = session.require_checkpoint()
label = ctx.label(ctx.checkpoint)
st.title(f"Latent map of {label}")
arrays = session.require_projections(ctx)
if arrays is None:
    st.stop()
st.markdown("Every point is one test digit's posterior mean, projected to 2-D. Click a digit in the legend to "
            "hide it (double-click to show only it); click a point, or drag a box or lasso, to see the digits.")

methods = charts.map_methods(ctx.checkpoint.model_config.latent_dim)
session.keep_choice("latent_map_method", methods)
method = st.radio("Map", methods, horizontal=True, key="latent_map_method",
                  help=f"t-SNE covers {len(arrays['tsne_index']):,} test digits and was computed once, when the "
                       f"model was cached; UMAP and {methods[0]} cover all of them. A 2-D latent space needs no PCA: "
                       "its means are drawn in their own coordinates.")
if not charts.map_cached(arrays, method):
    st.info(captions.missing_map_sentence(method, ctx.dataset))
    st.stop()
chart, detail = st.columns([3, 1])
with chart:
    event = st.plotly_chart(cache.latent_map_figure(ctx.checkpoint, method), key=f"latent_map_{method}",
                            on_select="rerun", selection_mode=("points", "box", "lasso"))
indices = points.selected_test_indices(event)
with detail:
    st.markdown("**Selected digits**")  # the size of the chart title beside it
    if not indices:
        st.write("Nothing selected yet.")
    else:
        split, _ = session.test_data(ctx, "Original images of the selected digits")
        labels = ", ".join(f"#{i} ({points.test_label(split, arrays, i)})" for i in indices[:12])
        st.caption(f"{len(indices)} selected: {labels}{' …' if len(indices) > 12 else ''}")
        if split is not None:
            widgets.image(images.test_images_png(split, indices, 4), caption="Originals")
        widgets.image(images.decoded_means_png(cache.model_for(ctx.checkpoint), split, arrays, indices, 4),
                     caption="Decoded posterior means")

split = cache.test_split(ctx.dataset)[0]
downloads.encoded_test_set(ctx.checkpoint, cache.model_for(ctx.checkpoint),
                           split if points.split_matches(split, arrays) else None, arrays,
                           captions.class_names(ctx.dataset))
