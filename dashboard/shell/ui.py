"""Small pieces every page draws the same way: a crisp image and the classifier's reading."""

from __future__ import annotations

import streamlit as st

from dashboard.shell import captions


def image(png: bytes, caption: str | None = None, width: int | str = "content") -> None:
    """A PNG at its own pixel size (already upscaled by nearest neighbour, so it stays crisp).

    ``output_format="PNG"`` matters: on "auto" Streamlit re-encodes grey images as JPEG.
    """
    st.image(png, caption=caption, width=width, output_format="PNG")


def reading(looks: str | None, reader) -> None:
    """The classifier's reading of the digit, or how to get a classifier; ``reader`` is (classifier, why absent)."""
    if looks:
        st.markdown(looks)
    else:
        st.caption(captions.classifier_missing_sentence(reader[1]))
