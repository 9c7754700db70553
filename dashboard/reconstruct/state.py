"""Reconstruct's view state: which test images (how many, picked by a seed) and how many per row.

Bound to the URL by Streamlit (``bind="query-params"``; the keys are the parameters' names, kept
as older links spell them). The test rows are drawn from the model's test set by the seed, so a
model switch keeps the view (models of one data set share their test set).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

COUNT, SEED, COLUMNS = "count", "seed", "columns"
COUNT_RANGE, COUNT_DEFAULT, COUNT_STEP = (5, 50), 20, 5
COLUMNS_RANGE, COLUMNS_DEFAULT = (5, 25), 10


@dataclass(frozen=True)
class ReconstructView:
    count: int  # test images shown
    seed: int  # picks which test images
    columns: int  # images per row


def controls(many: str) -> ReconstructView:
    """The bound widgets; ``many`` names the images ('digits', 'items')."""
    count = st.slider(f"Number of test {many}", *COUNT_RANGE, COUNT_DEFAULT, step=COUNT_STEP, key=COUNT,
                      bind="query-params")
    seed = st.number_input(f"Seed for picking test {many}", min_value=0, value=0, step=1, key=SEED,
                           bind="query-params")
    columns = st.slider(f"{many.capitalize()} per row", *COLUMNS_RANGE, COLUMNS_DEFAULT, key=COLUMNS,
                        bind="query-params")
    return ReconstructView(int(count), int(seed), int(columns))
