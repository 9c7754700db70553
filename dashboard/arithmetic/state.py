"""Class arithmetic's view state: the morph's two classes and steps, and the class direction added to a test image,
as one ``ArithmeticView``.

Bound to the URL by Streamlit (``bind="query-params"``; the keys are the parameters' names, kept
as older links spell them). What belongs to a model is checked against it on every run: a class
that the model's test set lacks goes back to the default pair, and the test image's number is
clamped to the model's test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.shell import view

MORPH, DIRECTION = "morph", "direction"  # the class pairs' key prefixes: morph_from, morph_to, direction_...
STEPS, DIGIT, STRENGTH = "steps", "digit", "strength"
STEPS_RANGE, STEPS_DEFAULT = (3, 15), 10
STRENGTH_RANGE, STRENGTH_DEFAULT, STRENGTH_STEP = (0.25, 2.0), 1.0, 0.25
DEFAULT_PAIRS = {MORPH: (3, 8), DIRECTION: (7, 1)}  # pairs whose mix reads well on MNIST


@dataclass(frozen=True)
class Morph:
    first: int  # class
    last: int
    steps: int


@dataclass(frozen=True)
class Direction:
    index: int  # the test image
    first: int  # the direction is mean(last) - mean(first)
    last: int
    strength: float


@dataclass(frozen=True)
class ArithmeticView:
    """The page's view: the morph, and the class direction (None when the model has no test image to move)."""

    morph: Morph
    direction: Direction | None


def default_pair(prefix: str, present: list[int]) -> tuple[int, int]:
    """The classes first shown, or the first and last present when the model's test set lacks one."""
    first, last = DEFAULT_PAIRS[prefix]
    return (first, last) if first in present and last in present else (present[0], present[-1])


def class_pair(prefix: str, present: list[int], names, places) -> tuple[int, int]:
    """Two class pickers in ``places``, bound as ``<prefix>_from`` and ``<prefix>_to`` -> (first, last)."""
    picked = []
    for place, text, default in zip(places, ("From class", "To class"), default_pair(prefix, present), strict=True):
        key = f"{prefix}_{text.split()[0].lower()}"
        view.keep_valid(key, present, default)  # a class this model's test set lacks
        picked.append(place.selectbox(text, present, index=present.index(default), key=key,
                                      format_func=lambda k: names[k], bind="query-params"))
    return int(picked[0]), int(picked[1])


def controls(present: list[int], names, total: int, one: str, morph_place, direction_place) -> ArithmeticView:
    """The bound widgets, each section's in its place (a container the page laid out): ``present`` are the classes
    the model's test set has, ``names`` their names; ``total`` test images can be picked (0: no direction
    controls), ``one`` names one ('digit', 'item')."""
    with morph_place:
        morph = _morph_controls(present, names)
    if not total:
        return ArithmeticView(morph, None)
    with direction_place:
        return ArithmeticView(morph, _direction_controls(present, names, total, one))


def _morph_controls(present: list[int], names) -> Morph:
    places = st.columns(3)
    first, last = class_pair(MORPH, present, names, places[:2])
    steps = places[2].slider("Steps", *STEPS_RANGE, STEPS_DEFAULT, key=STEPS, bind="query-params")
    return Morph(first, last, int(steps))


def _direction_controls(present: list[int], names, total: int, one: str) -> Direction:
    places = st.columns(4)
    view.clamp_state(DIGIT, 0, total - 1)  # another model's test set may be smaller
    index = places[0].number_input(f"Test {one} (0 to {total - 1})", 0, total - 1, 0, key=DIGIT,
                                   bind="query-params")
    first, last = class_pair(DIRECTION, present, names, places[1:3])
    strength = places[3].slider("Strength", *STRENGTH_RANGE, STRENGTH_DEFAULT, STRENGTH_STEP, key=STRENGTH,
                                bind="query-params",
                                help=f"How much of the direction the last {one} gets; 1 moves it as far as the "
                                     "class means are apart.")
    return Direction(int(index), first, last, float(strength))
