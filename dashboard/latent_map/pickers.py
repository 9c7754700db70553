"""The column beside the Latent map, first: which digits it draws, what colours them and the density lines under them;
each kept with the map's view (``state.MapView``)."""

from __future__ import annotations

import streamlit as st

from dashboard.components import map_colour
from dashboard.latent_map.state import MapView


def points_switch(shown: MapView, offered: bool, dataset: str) -> None:
    """The switch that adds the training digits to the map (faint, under the test digits), or the line that says how
    to place them on this model's maps."""
    if not offered:
        st.caption(f"Only the test digits: `vae-explorer project --dataset {dataset}` places the training digits on "
                   "this model's maps (training does, unless its maps were left for later).")
        return
    st.toggle("Training digits too", key=shown.points_key, on_change=shown.points_heard,
              help="Adds every training digit, drawn fainter than the test digits, with its thumbnail (the training "
                   "images are sent once, when first asked for). PCA places them exactly; t-SNE and UMAP were fitted "
                   "on the test digits, so each training digit sits at the distance-weighted mean of its 5 nearest "
                   "test digits' places (in the full latent space). Neighbours and search then cover them too.")


def pickers(shown: MapView, colours: tuple[str, ...], note: str) -> None:
    """What colours the points and which density lines lie under them, kept with the view; ``note``: one line on
    what the cached maps lack."""
    st.selectbox("Colour by", colours, key=shown.colour_key, format_func=map_colour.label,
                 on_change=shown.colour_heard, help=COLOUR_HELP)
    st.radio("Density contours", list(map_colour.CONTOURS), key=shown.contours_key, horizontal=True,
             format_func=map_colour.CONTOURS.get, on_change=shown.colour_heard,
             help="Lines around the densest regions holding 30%, 60% and 90% of the points (a Gaussian kernel "
                     "density on the map), of all of them or of each class in its colour; drawn under the points.")
    if note:
        st.caption(note)


COLOUR_HELP = ("Reconstruction error: each test digit's negative ELBO in nats, its Bernoulli cross-entropy decoded "
               "from z = its posterior mean (not a sample, so it is the same on every run) plus its KL. KL: KL(q(z|x) "
               "|| N(0, I)) in nats. Confidence: the classifier's top probability on the model's reconstruction. A "
               "latent dimension: the posterior mean's value there. Colours (viridis) span the 1st to 99th "
               "percentile; hover a point for its value.")
