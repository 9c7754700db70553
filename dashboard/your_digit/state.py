"""Your digit's view state: where the reader's digit comes from (the pad or an upload), the pad's pixels, and how
many of its nearest test digits are listed.

Nothing here goes into the URL: a drawing and an uploaded file are the reader's own, not a view
to share (the explorer's "Explore from here" link carries the digit's mean instead). None of it
belongs to a model: a model switch encodes the same digit with the new model.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.components import canvas
from vae_core.digits import MAX_UPLOAD_BYTES

SOURCE, PIXELS, PAD, UPLOAD = "draw_source", "draw_pixels", "draw_pad", "draw_upload"  # session-state keys
SOURCES = ("drawing", "upload")  # what the reader did last decides which digit the page shows
K, DEFAULT_K, MAX_K = "draw_k", 8, 20  # the nearest test digits listed: the widget's key, as the Latent map's k


@dataclass(frozen=True)
class DigitSource:
    source: str  # one of SOURCES
    pixels: list | None  # the pad's 784 grey levels, None before a stroke
    upload: bytes | None  # the uploaded file's bytes


def _remember(source: str) -> None:
    """A stroke or an upload: the last thing the reader did decides which digit the page shows."""
    st.session_state[SOURCE] = source
    if source == "drawing":
        st.session_state[PIXELS] = (st.session_state.get(PAD) or {}).get("pixels")


def controls(upload_label: str) -> DigitSource:
    """The drawing pad and the uploader -> what the reader gave last."""
    canvas.drawing(PAD, st.session_state.get(PIXELS), note="Draw with the mouse; let go to encode.",
                   on_change=lambda: _remember("drawing"))
    upload = st.file_uploader(upload_label, type=["png", "jpg", "jpeg"], key=UPLOAD,
                              max_upload_size=MAX_UPLOAD_BYTES >> 20,
                              on_change=lambda: _remember("upload"))
    source = st.session_state.get(SOURCE, SOURCES[0])
    return DigitSource(source if source in SOURCES else SOURCES[0], st.session_state.get(PIXELS),
                       upload.getvalue() if upload is not None else None)


def chosen_count() -> int:
    """The count ``neighbour_count`` shows, before its slider is drawn (the map above it rings that many)."""
    value = st.session_state.get(K, DEFAULT_K)
    return min(max(int(value), 1), MAX_K) if isinstance(value, int) else DEFAULT_K


def neighbour_count(help_text: str) -> int:
    """How many nearest test digits to list (1 to ``MAX_K``): the reader's, for the session, whatever the model."""
    return st.slider("How many", 1, MAX_K, DEFAULT_K, key=K, help=help_text)
