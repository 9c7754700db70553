"""Widgets shared by pages: a crisp image, the explorer's start controls, the live toggle and plane."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import captions, links, points, session


def image(png: bytes, caption: str | None = None, width: int | str = "content") -> None:
    """A PNG at its own pixel size (already upscaled by nearest neighbour, so it stays crisp).

    ``output_format="PNG"`` matters: on "auto" Streamlit re-encodes grey images as JPEG.
    """
    st.image(png, caption=caption, width=width, output_format="PNG")


def start_controls(split, arrays, total: int, latent_dim: int, own: bool = False) -> tuple[str, int, int, int]:
    """The explorer's first row: where the sliders start and how many are shown -> (mode, seed, index, shown).

    Only the controls the chosen start point needs get a column, so no empty column leaves a gap.
    ``own``: the Your digit page has encoded a digit for this model, a start point too.
    """
    modes = (list(points.BASE_MODES) if total else list(points.BASE_MODES[:2])) + ([points.OWN_DIGIT] if own else [])
    session.keep_choice("explorer_base_mode", modes)
    mode = st.session_state["explorer_base_mode"]  # read before the radio: the layout depends on it
    needs_detail, needs_count = mode != points.BASE_MODES[0] or not total, latent_dim > 2
    widths = [4 if own else 3] + [2] * (needs_detail + needs_count)  # a fourth start point needs room on one line
    columns = iter(st.columns(widths + [7 - sum(widths)] if sum(widths) < 7 else widths))
    with next(columns):
        mode = st.radio("Start from", modes, horizontal=True, key="explorer_base_mode")
    seed, index = 0, 0
    if needs_detail:
        with next(columns):
            if mode == points.BASE_MODES[1]:
                seed = st.number_input("Prior draw seed", min_value=0, step=1, key="explorer_prior_seed")
            elif mode == points.BASE_MODES[2]:
                session.clamp_state("explorer_test_index", 0, total - 1)
                index = st.number_input(f"Test digit (0 to {total - 1})", min_value=0, max_value=total - 1, step=1,
                                        key="explorer_test_index")
                st.caption(f"Test image #{index} is a {points.test_label(split, arrays, index)}: "
                           "sliders start at its mean.")
            elif mode == points.OWN_DIGIT:
                st.caption("Sliders start at the mean of the digit you drew or uploaded on the Your digit page.")
            if not total:
                st.caption("Test digits as start points need cached means (`vae-explorer project`) or VAE_DATA_DIR.")
    shown = latent_dim
    if needs_count:
        with next(columns):
            shown = st.slider("Sliders shown (most informative first)", 1, latent_dim, min(latent_dim, 8),
                              key="explorer_slider_count")
    return mode, int(seed), int(index), int(shown)


def live_toggle(key: str) -> bool:
    """Decode in the browser (the live component) or through the server (st.slider); True when live."""
    return st.toggle("Live decoding in the browser", value=True, key=key,
                     help="On: the page decodes while you drag a slider or move over the plane, and the server "
                          "hears the value on release. Off: Streamlit sliders, each value decoded by the server.")


def plane_axes(order: list[int], scores, latent_dim: int) -> tuple[int, int]:
    """The two dimensions of the hover plane: z[0], z[1] for z = 2, else picked (most informative first)."""
    if latent_dim <= 2:
        return 0, 1
    name = partial(captions.dim_label, scores=scores)
    left, right = st.columns(2)
    across = left.selectbox("Plane: horizontal dimension", order, index=0, key="explorer_plane_x", format_func=name)
    up = right.selectbox("Plane: vertical dimension", [d for d in order if d != across], index=0,
                         key="explorer_plane_y", format_func=name)
    return int(across), int(up)


def live_plane(checkpoint, dims: tuple[int, int]):
    """The live view's hover plane over ``dims``, with the cached test means behind it."""
    from dashboard import cache
    from dashboard.components import live_decoder

    held = "" if checkpoint.model_config.latent_dim <= 2 else "; the other dimensions stay where the sliders put them"
    note = (f"Move over the plane to decode z[{dims[0]}], z[{dims[1]}] under the cursor{held}. "
            "Click to pin the point on the sliders. Dots: test digits' means, coloured by class.")
    return live_decoder.Plane(dims[0], dims[1], *cache.plane_points_for(checkpoint, dims), note)


def compare_axis(ctx) -> tuple[str, dict, list]:
    """Compare's first row: the axis to vary and the settings held fixed -> (axis, held, checkpoints shown).

    When the axis changes, the held settings move to the ones that show the most columns
    (ties: the sidebar model's), so the default view is today's: the latent sizes of the
    chosen model's architecture, beta and data set.
    """
    from dashboard import axes

    pool = ctx.everything or ctx.checkpoints
    row = st.columns(len(axes.AXES))
    axis = row[0].radio("Compare along", axes.AXES, key="compare_axis")
    keys = {other: f"compare_hold_{other.replace(' ', '_')}" for other in axes.AXES if other != axis}
    if st.session_state.get("compare_axis_shown") != axis:
        for other, setting in axes.best_held(pool, axis, ctx.checkpoint).items():
            st.session_state[keys[other]] = setting
        st.session_state["compare_axis_shown"] = axis
    held = {}
    for column, (other, key) in zip(row[1:], keys.items(), strict=True):
        options = axes.options(pool, other)
        session.keep_choice(key, options)
        held[other] = column.selectbox(f"Hold {other} at", options, key=key,
                                       format_func=lambda v, other=other: axes.value_label(other, v))
    return axis, held, axes.columns(pool, axis, held)


def compare_test_splits(models: list) -> dict:
    """{data set: its test split, or None when the images are not in VAE_DATA_DIR} for the models shown."""
    from dashboard import cache

    return {dataset: cache.test_split(dataset)[0]
            for dataset in dict.fromkeys(c.train_config.dataset for c in models)}


@st.fragment
def latent_walk(models: list, label_of, splits: dict, total: int) -> None:
    """Compare's live walk: pick a line (two test digits, or a random direction), every model decodes it in the page.

    A fragment: its controls and the position it reports rerun only the walk, not the whole page.

    """
    from dashboard import cache
    from dashboard.components import live_decoder

    kind_column, detail_column = st.columns([2, 3])
    kinds = list(points.WALKS) if total else list(points.WALKS[1:])
    session.keep_choice("compare_walk_kind", kinds)
    kind = kind_column.radio("Walk", kinds, horizontal=True, key="compare_walk_kind")
    if kind == points.WALKS[0]:
        ends = detail_column.columns(2)
        for key in ("compare_walk_from", "compare_walk_to"):
            session.clamp_state(key, 0, total - 1)
        first = ends[0].number_input("From test digit", 0, total - 1, 0, key="compare_walk_from")
        last = ends[1].number_input("To test digit", 0, total - 1, min(1, total - 1), key="compare_walk_to")
        lines = {c.name: points.test_means(cache.model_for(c), splits[c.train_config.dataset],
                                           cache.projections_for(c), [first, last]) for c in models}
        arrays, split = cache.projections_for(models[0]), splits[models[0].train_config.dataset]
        detail = (first, last)
        note = captions.walk_between_note(first, last, points.test_label(split, arrays, first),
                                          points.test_label(split, arrays, last))
    else:
        seed = int(detail_column.number_input("Direction seed", min_value=0, value=0, step=1, key="compare_walk_seed"))
        lines = {c.name: points.direction_line(c.model_config.latent_dim, seed) for c in models}
        detail, note = (seed,), captions.walk_direction_note(seed, points.WALK_RADIUS)
    live_decoder.send_weights("compare_walk_weights", {c.name: cache.decoder_weights_for(c) for c in models})
    walks = [{"model": c.name, "label": label_of(c), "start": lines[c.name][0].tolist(),
              "end": lines[c.name][1].tolist()} for c in models]
    live_decoder.walk("compare_walk", walks, repr((kind, detail, [c.name for c in models])), note)
    from dashboard import downloads

    downloads.walk(f"compare-walk-{'-'.join(map(str, detail))}", [cache.model_for(c) for c in models],
                   [label_of(c) for c in models], [lines[c.name] for c in models])


@st.fragment
def server_sliders(model, base, dims: list[int], labels: list[str], prefix: str, reader, dataset: str) -> None:
    """The server path: Streamlit sliders beside the decoded digit; only this fragment reruns on release."""
    from dashboard import images

    sliders, digit = st.columns([1, 1])
    with sliders:
        values = {dim: st.slider(label, *points.SLIDER_RANGE, step=points.SLIDER_STEP, key=f"{prefix}{dim}")
                  for dim, label in zip(dims, labels, strict=True)}
    links.share(z=links.values_text(values))
    z = points.point_from_values(base, values)
    png, looks = images.digit_and_reading(model, z, reader[0], dataset)
    with digit:
        image(png, caption=captions.point_caption(z, dims))
        reading(looks, reader)


@st.fragment
def live_sliders(checkpoint, model, base, dims: list[int], labels: list[str], prefix: str, signature: str, plane,
                 reader, dataset: str) -> None:
    """The live path: the page decodes while a slider or the pointer moves; this fragment reruns on release."""
    from dashboard import cache
    from dashboard.components import live_decoder

    live_decoder.send_weights("explorer_live_weights", {checkpoint.name: cache.decoder_weights_for(checkpoint)})
    values = {dim: st.session_state[f"{prefix}{dim}"] for dim in dims}
    reported = live_decoder.explorer(f"explorer_live_{checkpoint.name}", checkpoint.name, base.tolist(), values,
                                     dims, labels, signature, points.SLIDER_RANGE, points.SLIDER_STEP, plane)
    session.store_slider_values(prefix, reported)
    links.share(z=links.values_text({dim: st.session_state[f"{prefix}{dim}"] for dim in dims}))
    if plane is not None:
        from dashboard import charts

        st.markdown(charts.digit_legend_html(captions.class_names(dataset)), unsafe_allow_html=True)
    z = points.point_from_values(base, {dim: st.session_state[f"{prefix}{dim}"] for dim in dims})
    st.caption(captions.point_caption(z, dims) + " (as last reported by the page: on release or a short pause)")
    reading(captions.reading_of(model, z, reader[0], dataset), reader)


def reading(looks: str | None, reader) -> None:
    """The classifier's reading of the digit, or how to get a classifier; ``reader`` is (classifier, why absent)."""
    if looks:
        st.markdown(looks)
    else:
        st.caption(captions.classifier_missing_sentence(reader[1]))
