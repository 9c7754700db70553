"""Compare's view state: the axis, the settings held fixed, and what every column shares.

Bound to the URL by Streamlit (``bind="query-params"``; the keys are the parameters' names, kept
as older links spell them): ``axis``, ``hold_<setting>`` (``hold_latent_size``, ``hold_beta``,
``hold_epochs``, ...), ``seed``, ``temperature``, ``digits`` (the seed that picks the shared test
images) and ``map``.

The held settings follow the axis: when the reader changes it, they move to those that show the
most columns (``axes.best_held``), which are also the pickers' defaults, so the URL names a held
setting only when it differs from them. A held setting that no model has goes back to that default.

The walk is a fragment (its controls rerun only the walk, not the page), so its widgets are drawn
there by ``walk_controls``; their keys (``walk``, ``walk_from``, ``walk_to``, ``walk_seed``) live here
too, and the test image numbers are clamped to the smallest test set shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.compare import axes
from dashboard.shell import points, view

AXIS, SEED, TEMPERATURE, DIGITS, METHOD = "axis", "seed", "temperature", "digits", "map"
HOLD = "hold_{}"  # a held setting's key: hold_latent_size, hold_data_set, ...
WALK, WALK_FROM, WALK_TO, WALK_SEED = "walk", "walk_from", "walk_to", "walk_seed"
AXIS_SHOWN_KEY = "compare_axis_shown"  # the axis the held settings were last chosen for (not in the URL)
SEED_RANGE = (0, 2**31 - 1)
TEMPERATURE_RANGE, TEMPERATURE_DEFAULT, TEMPERATURE_STEP = (0.1, 2.0), 1.0, 0.05  # scales the prior's std
METHODS = ("t-SNE", "UMAP", "PCA")


@dataclass(frozen=True)
class CompareView:
    axis: str  # one of axes.AXES: the setting that varies across the columns
    held: tuple[tuple[str, object], ...]  # (setting, value) held fixed: the other axes, and run settings that differ
    seed: int  # the prior draws every column decodes
    temperature: float
    digits: int  # picks the test images every column reconstructs
    method: str  # the maps' projection, one of METHODS

    @property
    def holding(self) -> dict:
        """{setting: value} of the settings held fixed."""
        return dict(self.held)

    def models(self, pool: list) -> list:
        """The checkpoints of ``pool`` shown as columns, ordered along the axis."""
        return axes.columns(pool, self.axis, self.holding)

    def summary(self) -> str:
        """'MLP, beta = 1, MNIST': the settings held fixed, in words."""
        return axes.summary(self.axis, self.holding)


def hold_key(setting: str) -> str:
    return HOLD.format(setting.replace(" ", "_"))


def controls(pool: list, current) -> CompareView:
    """Compare's controls: the axis and the held settings over ``pool`` (``current``: the sidebar's model), then
    one row of what the columns share."""
    axis, held = _axis_and_held(pool, current)
    one = axes.image_noun(axes.columns(pool, axis, held))  # 'digit', 'item', or 'image' across data sets
    row = st.columns(4)
    seed = row[0].number_input("Generation seed (shared)", *SEED_RANGE, step=1, key=SEED, bind="query-params")
    temperature = row[1].slider("Temperature", *TEMPERATURE_RANGE, TEMPERATURE_DEFAULT, TEMPERATURE_STEP,
                                key=TEMPERATURE, bind="query-params")
    digits = row[2].number_input(f"Test {one} seed (shared)", *SEED_RANGE, step=1, key=DIGITS, bind="query-params")
    view.keep_valid(METHOD, list(METHODS))  # the Latent map's "Latent coordinates" is not a Compare map
    method = row[3].radio("Latent maps", METHODS, horizontal=True, key=METHOD, bind="query-params",
                          help="z = 2 needs no PCA: its map shows the two latent coordinates as they are.")
    return CompareView(axis, tuple(held.items()), int(seed), float(temperature), int(digits), method)


def _axis_and_held(pool: list, current) -> tuple[str, dict]:
    """The axis radio and a 'Hold ... at' picker per held setting -> (axis, {setting: value}).

    The axis and the four family settings share a row; epochs, hidden width and seed get a second
    row only when the models differ in them.
    """
    offered = axes.axes_for(pool)
    view.keep_valid(AXIS, list(offered))  # 'source' from a link, with no imported model here any more
    row = st.columns(len(offered))
    axis = row[0].radio("Compare along", offered, key=AXIS, bind="query-params")
    others = axes.held_settings(pool, axis)
    best = axes.best_held(pool, axis, current)
    if st.session_state.get(AXIS_SHOWN_KEY) not in (None, axis):  # the reader changed the axis
        for other in others:
            st.session_state[hold_key(other)] = best[other]
    st.session_state[AXIS_SHOWN_KEY] = axis
    extra = len(others) - (len(offered) - 1)
    places = row[1:] + (st.columns(len(offered))[1:1 + extra] if extra else [])
    held = {}
    for place, other in zip(places, others, strict=True):
        options = axes.options(pool, other)
        view.keep_valid(hold_key(other), options, best[other])
        held[other] = place.selectbox(f"Hold {other} at", options, index=options.index(best[other]),
                                      key=hold_key(other), bind="query-params",
                                      format_func=lambda v, other=other: axes.value_label(other, v))
    return axis, held


@dataclass(frozen=True)
class Walk:
    """The walk fragment's own state (it reruns alone, so it cannot be read into CompareView)."""

    kind: str  # one of points.WALKS
    ends: tuple[int, int]  # the two test images (the first kind)
    seed: int  # the random direction's seed (the second kind)

    @property
    def between(self) -> bool:
        return self.kind == points.WALKS[0]

    @property
    def detail(self) -> tuple[int, ...]:
        """What names this walk in a file name and in the component's data key."""
        return self.ends if self.between else (self.seed,)


def walk_controls(total: int, one: str, many: str) -> Walk:
    """The walk's bound widgets; ``total`` test images can be walked between (0: only a random direction)."""
    kind_place, detail_place = st.columns([2, 3])
    kinds = list(points.WALKS) if total else list(points.WALKS[1:])
    view.keep_valid(WALK, kinds)
    kind = kind_place.radio("Walk", kinds, horizontal=True, key=WALK, bind="query-params",
                            format_func=lambda k: k.replace("test digits", f"test {many}"))
    if kind != points.WALKS[0]:
        seed = detail_place.number_input("Direction seed", *SEED_RANGE, step=1, key=WALK_SEED, bind="query-params")
        return Walk(kind, (0, 0), int(seed))
    ends = detail_place.columns(2)
    for key in (WALK_FROM, WALK_TO):
        view.clamp_state(key, 0, total - 1)  # the smallest test set shown may have shrunk
    first = ends[0].number_input(f"From test {one}", 0, total - 1, 0, key=WALK_FROM, bind="query-params")
    last = ends[1].number_input(f"To test {one}", 0, total - 1, min(1, total - 1), key=WALK_TO, bind="query-params")
    return Walk(kind, (int(first), int(last)), 0)
