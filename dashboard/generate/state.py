"""Generate's view state: the prior draw (seed, count, temperature), the grid's width and its annotations.

Every value is bound to the URL by Streamlit (``bind="query-params"``; the widget's key is the
parameter's name, kept as older links spell it). None belongs to one model: a seed draws the
same latent vectors from any model's prior, so a model switch keeps the view.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

SEED, COUNT, TEMPERATURE, COLUMNS, LABELS, NEAREST = "seed", "count", "temperature", "columns", "labels", "nearest"
SEED_RANGE = (0, 2**31 - 1)
COUNT_RANGE, COUNT_DEFAULT = (1, 100), 40
TEMPERATURE_RANGE, TEMPERATURE_DEFAULT, TEMPERATURE_STEP = (0.1, 2.0), 1.0, 0.05  # scales the prior's std
COLUMNS_RANGE, COLUMNS_DEFAULT = (4, 20), 10


@dataclass(frozen=True)
class GenerateView:
    seed: int
    count: int
    temperature: float
    columns: int
    labels: bool  # the classifier's guess under each sample
    nearest: bool  # the nearest training image under each sample


def controls(one: str, many: str) -> GenerateView:
    """The bound widgets, in the order they are drawn; ``one``/``many`` name the images ('digit', 'digits')."""
    seed = st.number_input("Seed", *SEED_RANGE, step=1, key=SEED, bind="query-params")
    count = st.slider(f"Number of {many}", *COUNT_RANGE, COUNT_DEFAULT, key=COUNT, bind="query-params")
    temperature = st.slider("Temperature (prior std scale)", *TEMPERATURE_RANGE, TEMPERATURE_DEFAULT,
                            TEMPERATURE_STEP, key=TEMPERATURE, bind="query-params")
    columns = st.slider(f"{many.capitalize()} per row", *COLUMNS_RANGE, COLUMNS_DEFAULT, key=COLUMNS,
                        bind="query-params")
    labels = st.toggle("Classifier labels", key=LABELS, bind="query-params",
                       help=f"Write the {one} classifier's guess and its probability under each sample.")
    nearest = st.toggle("Nearest training image", key=NEAREST, bind="query-params",
                        help="Show under each sample the training image closest to it in pixel space.")
    return GenerateView(int(seed), int(count), float(temperature), int(columns), bool(labels), bool(nearest))
