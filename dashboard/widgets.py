"""Widgets shared by pages: a crisp image, the explorer's start controls, the live toggle and plane."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import captions, points, session


def image(png: bytes, caption: str | None = None, width: int | str = "content") -> None:
    """A PNG at its own pixel size (already upscaled by nearest neighbour, so it stays crisp).

    ``output_format="PNG"`` matters: on "auto" Streamlit re-encodes grey images as JPEG.
    """
    st.image(png, caption=caption, width=width, output_format="PNG")


def start_controls(split, arrays, total: int, latent_dim: int) -> tuple[str, int, int, int]:
    """The explorer's first row: where the sliders start and how many are shown -> (mode, seed, index, shown).

    Only the controls the chosen start point needs get a column, so no empty column leaves a gap.
    """
    modes = list(points.BASE_MODES) if total else list(points.BASE_MODES[:2])
    session.keep_choice("explorer_base_mode", modes)
    mode = st.session_state["explorer_base_mode"]  # read before the radio: the layout depends on it
    needs_detail, needs_count = mode != points.BASE_MODES[0] or not total, latent_dim > 2
    widths = [3] + [2] * (needs_detail + needs_count)
    columns = iter(st.columns(widths + [7 - sum(widths)] if sum(widths) < 7 else widths))
    with next(columns):
        mode = st.radio("Start from", modes, horizontal=True, key="explorer_base_mode")
    seed, index = 0, 0
    if needs_detail:
        with next(columns):
            if mode == points.BASE_MODES[1]:
                seed = st.number_input("Prior draw seed", min_value=0, value=0, step=1, key="explorer_prior_seed")
            elif mode == points.BASE_MODES[2]:
                session.clamp_state("explorer_test_index", 0, total - 1)
                index = st.number_input(f"Test digit (0 to {total - 1})", min_value=0, max_value=total - 1, value=0,
                                        step=1, key="explorer_test_index")
                st.caption(f"Test image #{index} is a {points.test_label(split, arrays, index)}: "
                           "sliders start at its mean.")
            if not total:
                st.caption("Test digits as start points need cached means (`vae-explorer project`) or VAE_DATA_DIR.")
    shown = latent_dim
    if needs_count:
        with next(columns):
            shown = st.slider("Sliders shown (most informative first)", 1, latent_dim, min(latent_dim, 8),
                              key="explorer_slider_count")
    return mode, int(seed), int(index), int(shown)


def live_toggle(key: str, model) -> bool:
    """Decode in the browser (the live component) or through the server (st.slider); True when live."""
    from dashboard.components import live_decoder

    if not live_decoder.supports(model):
        return False
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


def live_plane(arrays: dict | None, dims: tuple[int, int], latent_dim: int):
    """The live view's hover plane over ``dims``, with the cached test means behind it."""
    from dashboard.components import live_decoder

    mu, labels = (None, None) if arrays is None else (arrays["mu"], arrays["labels"])
    held = "" if latent_dim <= 2 else "; the other dimensions stay where the sliders put them"
    note = (f"Move over the plane to decode z[{dims[0]}], z[{dims[1]}] under the cursor{held}. "
            "Click to pin the point on the sliders. Dots: test digits' means, coloured by class.")
    return live_decoder.Plane(dims[0], dims[1], *live_decoder.plane_points(mu, labels, dims), note)
