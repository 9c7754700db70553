"""What every view's state shares: values that belong to a model go back to their defaults when it changes.

A view's widgets are bound to the URL (``bind="query-params"``: the widget's key is the
parameter's name), so a copied link, a reload and Back show what the reader set. A value
that only makes sense for one model (a plane axis, a test digit beyond a smaller test set)
is reset when the sidebar's model changes: the new model's view then equals a fresh load of
its address, which carries no value of the old model.
"""

from __future__ import annotations

import streamlit as st

SHOWN_MODEL_KEY = "view_model_{view}"  # the model a view last drew, per view
PENDING_KEY = "view_pending"  # {widget key: value} to set before the next run's widgets


def model_changed(view: str, model: str) -> bool:
    """True when ``view`` last drew another model in this session (the first draw is no change)."""
    key = SHOWN_MODEL_KEY.format(view=view)
    before = st.session_state.get(key)
    st.session_state[key] = model
    return before is not None and before != model


def keep_valid(key: str, options: list, default=None) -> None:
    """A remembered choice that this model does not offer goes back to ``default`` (else the first option)."""
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = options[0] if default is None else default


def insist(key: str, value, default, valid):
    """After a bound widget: ``value`` when the view can use it, else rerun with ``default`` in its place.

    Streamlit takes a link's value whenever its widget could show it, and the URL wins on a
    first load; a value the view cannot use (an even column count: no middle column) is
    replaced at the start of the next run (``apply_pending``), which also corrects the URL.
    """
    if valid(value):
        return value
    st.session_state.setdefault(PENDING_KEY, {})[key] = default
    st.rerun()


def apply_pending() -> None:
    """At the start of a run, before any widget: put the values ``insist`` asked for into their widgets."""
    for key, value in st.session_state.pop(PENDING_KEY, {}).items():
        st.session_state[key] = value


def clamp_state(key: str, low: int, high: int) -> None:
    """Keep a remembered number inside the range of the model now chosen (sizes differ by model)."""
    value = st.session_state.get(key)
    if value is not None and not low <= value <= high:
        st.session_state[key] = min(high, max(low, value))
