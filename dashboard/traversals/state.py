"""Traversals' view state: the start point (prior mean, a prior draw, a test image), the columns, all rows.

Bound to the URL by Streamlit (``bind="query-params"``; the keys are the parameters' names, kept
as older links spell them). The test image's number belongs to the model's test set: it is
clamped to the model now shown. The column count must be odd (the start point is the middle
column): an even one from a link is replaced by the default (``view.insist``).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.shell import points, view

START, SEED, DIGIT, COLUMNS, ALL = "start", "seed", "digit", "columns", "all"
COLUMNS_RANGE, COLUMNS_DEFAULT = (3, 15), 9  # odd: steps from -3 to +3 with the start point in the middle
ROWS_SHOWN = 10  # beyond this, rows wait behind "show all" so a z = 50 figure stays readable


@dataclass(frozen=True)
class TraversalView:
    mode: str  # a start of points.BASE_MODES
    seed: int  # the prior draw's seed (mode "Random prior draw")
    index: int  # the test image (mode "Test digit")
    columns: int  # odd
    rows: int  # dimensions shown, most informative first


def controls(latent_dim: int, total: int, one: str, describe) -> TraversalView:
    """The bound widgets in one row; ``total`` test images can be picked (0: none), ``one`` names one, and
    ``describe(index)`` is the caption under the picked test image."""
    modes = list(points.BASE_MODES) if total else list(points.BASE_MODES[:2])
    place = st.columns([5, 2, 2, 3])
    mode = place[0].radio("Start from", modes, horizontal=True, key=START, bind="query-params",
                          format_func=lambda m: {points.BASE_MODES[0]: "Prior mean",
                                                 points.BASE_MODES[2]: f"Test {one}"}.get(m, m))
    seed, index = 0, 0
    if mode == points.BASE_MODES[1]:
        seed = place[1].number_input("Prior draw seed", min_value=0, max_value=2**31 - 1, value=0, step=1,
                                     key=SEED, bind="query-params")
    elif mode == points.BASE_MODES[2]:
        view.clamp_state(DIGIT, 0, total - 1)  # another model's test set may be smaller
        index = place[1].number_input(f"Test {one} (0 to {total - 1})", min_value=0, max_value=total - 1, value=0,
                                      step=1, key=DIGIT, bind="query-params")
        place[1].caption(describe(int(index)))
    columns = place[2].slider("Columns", *COLUMNS_RANGE, COLUMNS_DEFAULT, step=2, key=COLUMNS, bind="query-params",
                              help="Steps from -3 to +3; an odd count puts the start point in the middle column.")
    columns = view.insist(COLUMNS, columns, COLUMNS_DEFAULT, lambda n: n % 2 == 1)
    show_all = latent_dim > ROWS_SHOWN and place[3].toggle(f"Show all {latent_dim} dimensions", key=ALL,
                                                           bind="query-params")
    rows = latent_dim if show_all or latent_dim <= ROWS_SHOWN else ROWS_SHOWN
    return TraversalView(mode, int(seed), int(index), int(columns), rows)

