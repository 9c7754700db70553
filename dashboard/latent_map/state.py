"""The Latent map's view: which projection is drawn, bound to the URL as ``map``."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.shell import charts, view

METHOD_KEY = "map"  # the widget's key and the URL parameter: ?map=t-SNE


@dataclass(frozen=True)
class MapView:
    """One model's map: its name and the projection shown (an option of ``charts.map_methods``)."""

    model: str
    method: str

    @property
    def component_key(self) -> str:
        """The canvas' key: a new model or projection mounts a new map, never the old points under a new title."""
        return f"latent_map_{self.model}_{self.method}"


def choose(checkpoint, help_text: str) -> MapView:
    """The projection picker for ``checkpoint`` -> the view (a link's ``map`` is taken when this model has it)."""
    methods = charts.map_methods(checkpoint.model_config.latent_dim)
    view.keep_valid(METHOD_KEY, methods)  # kept across models that offer it, like the URL's ``map``
    method = st.radio("Map", methods, horizontal=True, key=METHOD_KEY, help=help_text, bind="query-params")
    return MapView(checkpoint.name, method)
