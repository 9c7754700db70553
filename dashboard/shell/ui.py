"""Small pieces every page draws the same way: a crisp image and the classifier's reading.

The classifier runs here, not in ``captions``: captions word the probabilities they are given.
"""

from __future__ import annotations

import streamlit as st

from dashboard.shell import captions, points


def image(png: bytes, *, alt: str, caption: str | None = None, width: int | str = "content") -> None:
    """A PNG at its own pixel size (already upscaled by nearest neighbour, so it stays crisp).

    ``alt`` is required and says what the picture shows ("40 digits decoded from random latent vectors,
    seed 0"), for a screen reader and for anyone whose browser does not load it; a caption does not
    replace it. ``output_format="PNG"`` matters: on "auto" Streamlit re-encodes grey images as JPEG.
    """
    if not alt.strip():
        raise ValueError("an image needs alt text that says what it shows")
    st.image(png, caption=caption, width=width, output_format="PNG", alt=alt)


def reading_of_image(image, classifier, dataset: str) -> str | None:
    """An image [28, 28] in [0, 1] -> the classifier's reading ('Looks like an **ankle boot** (97%)'),
    or None without a classifier."""
    return None if classifier is None else captions.reading(points.classify_image(classifier, image), dataset)


def reading_of(model, z, classifier, dataset: str) -> str | None:
    """z [D] -> the classifier's reading of the decoded image, or None without a classifier."""
    from vae_core import explore

    return reading_of_image(explore.decode(model, z.reshape(1, -1))[0], classifier, dataset)


def reading(looks: str | None, reader, dataset: str = "mnist") -> None:
    """The classifier's reading of the image, or how to get a classifier; ``reader`` is (classifier, why absent)."""
    if looks:
        st.markdown(looks)
    else:
        st.caption(captions.classifier_missing_sentence(reader[1], dataset))
