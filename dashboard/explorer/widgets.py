"""The explorer's controls: the start point, the dimension pickers, the live plane and sliders."""

from __future__ import annotations

import streamlit as st

from dashboard.components import live_decoder
from dashboard.explorer import state
from dashboard.shell import captions, charts, links, payloads, points, ui, view
from vae_core.classes import class_name, noun, with_article


def start_controls(split, arrays, total: int, latent_dim: int, dataset: str, own: bool = False, training=None
                   ) -> tuple[str, int, int, int]:
    """The explorer's first row: where the sliders start and how many are shown -> (mode, seed, index, shown);
    ``index``: the test digit's, or the training digit's among ``training`` (``points.training_digits``).

    Only the controls the chosen start point needs get a column, so no empty column leaves a gap.
    ``own``: the Your digit page has encoded a digit for this model, a start point too.
    """
    extra = ([points.TRAINING_DIGIT] if training is not None else []) + ([points.OWN_DIGIT] if own else [])
    modes = (list(points.BASE_MODES) if total else list(points.BASE_MODES[:2])) + extra
    mode = state.requested_mode(modes)  # read before the radio: the layout depends on it
    needs_detail, needs_count = mode != points.BASE_MODES[0] or not total, latent_dim > 2
    widths = [3 + len(extra)] + [2] * (needs_detail + needs_count)  # each further start point needs room on one line
    columns = iter(st.columns(widths + [7 - sum(widths)] if sum(widths) < 7 else widths))
    with next(columns):
        mode = st.radio("Start from", modes, horizontal=True, key=state.START, bind="query-params")
    seed, index = 0, 0
    if needs_detail:
        with next(columns):
            if mode == points.BASE_MODES[1]:
                seed = st.number_input("Prior draw seed", min_value=0, max_value=2**31 - 1, step=1, key=state.SEED,
                                       bind="query-params")
            elif mode == points.BASE_MODES[2]:
                view.clamp_state(state.DIGIT, 0, total - 1)
                index = st.number_input(f"Test {noun(dataset)} (0 to {total - 1})", min_value=0, max_value=total - 1,
                                        step=1, key=state.DIGIT, bind="query-params")
                named = with_article(class_name(dataset, points.test_label(split, arrays, index)))
                st.caption(f"Test image #{index} is {named}: sliders start at its mean.")
            elif mode == points.TRAINING_DIGIT:
                index = _training_digit(training, dataset)
            elif mode == points.OWN_DIGIT:
                st.caption(f"Sliders start at the mean of the {noun(dataset)} you drew or uploaded on the Your digit "
                           "page.")
            if not total:
                st.caption(f"Test {noun(dataset, plural=True)} as start points need cached means "
                           "(`vae-explorer project`) or VAE_DATA_DIR.")
    shown = latent_dim
    if needs_count:
        with next(columns):
            shown = st.slider("Sliders shown (most informative first)", 1, latent_dim,
                              min(latent_dim, state.SHOWN_DEFAULT), key=state.SHOWN, bind="query-params")
    return mode, int(seed), int(index), int(shown)


def _training_digit(training, dataset: str) -> int:
    """The training digit the sliders start at, picked by its index; a caption names its class."""
    count = len(training[0])
    view.clamp_state(state.TRAIN_DIGIT, 0, count - 1)
    index = st.number_input(f"Training {noun(dataset)} (0 to {count - 1})", min_value=0, max_value=count - 1,
                            step=1, key=state.TRAIN_DIGIT, bind="query-params")
    named = with_article(class_name(dataset, int(training[1][index])))
    st.caption(f"Training image #{index} is {named}: sliders start at its mean.")
    return int(index)


def dimension_pair(order: list[int], keys: tuple[str, str], labels: tuple[str, str], columns=None) -> tuple[int, int]:
    """Two dimension pickers (most informative first; the second offers the others) -> (across, up).

    Bound to the URL under ``keys``; options are spelled 'z[3]' there and on screen.
    """
    left, right = columns or st.columns(2)
    across = left.selectbox(labels[0], order, index=0, key=keys[0], format_func=state.dim_name, bind="query-params")
    up = right.selectbox(labels[1], [d for d in order if d != across], index=0, key=keys[1],
                         format_func=state.dim_name, bind="query-params")
    return int(across), int(up)


def plane_axes(order: list[int], latent_dim: int) -> tuple[int, int]:
    """The two dimensions of the hover plane: z[0], z[1] for z = 2, else picked (most informative first)."""
    if latent_dim <= 2:
        return 0, 1
    return dimension_pair(order, (state.PLANE_X, state.PLANE_Y),
                          ("Plane: horizontal dimension", "Plane: vertical dimension"))


def live_plane(checkpoint, dims: tuple[int, int]):
    """The live view's hover plane over ``dims``, with the cached test means behind it."""
    held = "" if checkpoint.model_config.latent_dim <= 2 else "; the other dimensions stay where the sliders put them"
    note = (f"Move over the plane to decode z[{dims[0]}], z[{dims[1]}] under the cursor{held}. "
            f"Click to pin the point on the sliders. Dots: test {noun(checkpoint.train_config.dataset, plural=True)}' "
            "means, coloured by class.")
    return live_decoder.Plane(dims[0], dims[1], *payloads.plane_points_for(checkpoint, dims), note)


@st.fragment
def live_sliders(checkpoint, model, base, dims: list[int], labels: list[str], prefix: str, signature: str, plane,
                 reader, dataset: str) -> None:
    """The live path: the page decodes while a slider or the pointer moves; this fragment reruns on release.

    A decoder the page cannot run is decoded here, at the point the page reported before this run.
    """
    live_decoder.send_weights("explorer_live_weights", {checkpoint.name: payloads.decoder_weights_for(checkpoint)})
    key = f"explorer_live_{checkpoint.name}"
    state.store_slider_values(prefix, live_decoder.pending_values(key, signature, dims))
    values = {dim: st.session_state[f"{prefix}{dim}"] for dim in dims}
    server = payloads.server_digit(checkpoint, points.point_from_values(base, values))
    reported = live_decoder.explorer(key, checkpoint.name, base.tolist(), values, dims, labels, signature,
                                     points.SLIDER_RANGE, points.SLIDER_STEP, plane, server)
    state.store_slider_values(prefix, reported)
    values = {dim: st.session_state[f"{prefix}{dim}"] for dim in dims}  # as the page last reported them
    moved = links.values_text(values)
    start = links.values_text({dim: points.clip_to_sliders(float(base[dim])) for dim in dims})
    links.share(z=moved if moved != start else None)  # at the start point the address needs no z (no second entry)
    if plane is not None:
        st.markdown(charts.digit_legend_html(captions.class_names(dataset)), unsafe_allow_html=True)
    z = points.point_from_values(base, values)
    st.caption(captions.point_caption(z, dims, dataset)
               + " (as last reported by the page: on release or a short pause)")
    ui.reading(ui.reading_of(model, z, reader[0], dataset), reader, dataset)
