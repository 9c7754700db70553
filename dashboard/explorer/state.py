"""The Latent explorer's view state: its widget keys (the URL's parameter names), defaults and model scope.

Bound to the URL by Streamlit (``bind="query-params"``): the start point (``start``, ``seed``,
``digit``, ``train_digit``), how many sliders are shown (``shown``), the hover plane's axes (``plane_x``,
``plane_y``) and the manifold grid's (``grid_x``, ``grid_y``). Streamlit cannot bind what the
live component reports, so ``dashboard.shell.links`` writes the slider values (``z``) and a
start point given as a whole vector (``at``). The sliders' values live under a key that
includes the model; the dimension pickers and the slider count belong to one model and go back
to their defaults when the sidebar's model changes (``dashboard.shell.view``).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.shell import points, view

VIEW = "explorer"
START, SEED, DIGIT, TRAIN_DIGIT, SHOWN = "start", "seed", "digit", "train_digit", "shown"
PLANE_X, PLANE_Y, GRID_X, GRID_Y = "plane_x", "plane_y", "grid_x", "grid_y"
PER_MODEL = (SHOWN, PLANE_X, PLANE_Y, GRID_X, GRID_Y)  # dimensions of one model: reset on a model switch
SHOWN_DEFAULT = 8  # sliders shown at first, most informative first
OWN_DIGIT_KEY = "explorer_own_digit"  # {"model": name, "mu": [D]}: a start at the reader's own digit


@dataclass(frozen=True)
class StartPoint:
    """Where the sliders start: a mode of ``points.BASE_MODES`` (or ``points.OWN_DIGIT``), its seed or test digit."""

    mode: str
    seed: int
    index: int


def slider_prefix(model: str) -> str:
    """The session-state prefix of one model's slider values: ``explorer_<model>_<dim>``."""
    return f"explorer_{model}_"


def on_model(model: str) -> None:
    """Before the widgets: a model switch sends this model's dimension pickers back to their defaults."""
    if view.model_changed(VIEW, model):
        for key in PER_MODEL:
            st.session_state.pop(key, None)


def dim_name(dim: int) -> str:
    """How a dimension picker names dimension ``dim`` (its URL value too): 'z[3]'."""
    return f"z[{dim}]"


def requested_mode(modes: list[str]) -> str:
    """The start mode this run will show, before its radio is drawn (the layout depends on it)."""
    wanted = st.session_state.get(START) or st.query_params.get(START)
    return wanted if wanted in modes else modes[0]


def sync_sliders(prefix: str, dims: list[int], base, signature: tuple) -> None:
    """Put the sliders of ``dims`` at the base point [D] when the base changes or a slider is new.

    Slider values live in session state under ``prefix + str(dim)``; they are only set here
    (and by the plane's click callback), never passed as ``value=``, so a moved slider keeps
    its value until the base point changes.
    """
    changed = st.session_state.get(prefix + "signature") != signature
    for dim in dims:
        key = f"{prefix}{dim}"
        if changed or key not in st.session_state:
            st.session_state[key] = points.clip_to_sliders(float(base[dim]))
    st.session_state[prefix + "signature"] = signature


def store_slider_values(prefix: str, values: dict[int, float] | None) -> None:
    """Keep the values the browser reported as the sliders' values (the server path and captions read them)."""
    for dim, value in (values or {}).items():
        st.session_state[f"{prefix}{dim}"] = points.clip_to_sliders(value)


def remember_own_digit(checkpoint, mu: list[float] | None) -> None:
    """Keep ``mu`` [D] (a link's ``at``, from Your digit's "Explore from here") as this model's own-digit start."""
    if mu is not None:
        st.session_state[OWN_DIGIT_KEY] = {"model": checkpoint.name, "mu": list(mu)}


def own_digit(checkpoint) -> list[float] | None:
    """The mean [D] of the digit the Your digit page encoded with ``checkpoint``, else None."""
    own = st.session_state.get(OWN_DIGIT_KEY)
    if isinstance(own, dict) and own.get("model") == checkpoint.name:
        return list(own["mu"])
    return None
