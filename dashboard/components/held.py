"""Which payloads (decoder weights, sprite sheets) a browser session's page already holds.

A component's views report the ids they hold in their ``held`` state; Python keeps the union
under a session-state key and mounts only the payloads not in it, so each goes to the page once.
"""

from __future__ import annotations

import streamlit as st


def held(state_key: str) -> set[str]:
    """The ids the page reported holding, under ``state_key``."""
    return set(st.session_state.get(state_key, ()))


def remember(state_key: str, component_key: str) -> None:
    """on_held_change of the component under ``component_key``: add what its view now holds."""
    value = (st.session_state.get(component_key) or {}).get("held")
    if isinstance(value, list):
        st.session_state[state_key] = sorted(held(state_key) | {str(v) for v in value})
