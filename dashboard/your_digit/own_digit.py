"""The reader's own digit: where it comes from (the pad or an upload), its encoding, and its place on the map.

Arrays in, arrays out; only ``map_projection_for`` is cached (per checkpoint).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard.shell import cache


def prepared(source: str, pixels, upload: bytes | None) -> tuple[np.ndarray | None, str | None]:
    """(the digit [28, 28] in [0, 1] prepared as MNIST's, None) or (None, a one-sentence error) or (None, None).

    ``source`` says which came last: the pad's 784 grey levels or the uploaded file's bytes.
    (None, None) means there is nothing yet: an empty pad and no upload.
    """
    from vae_core import digits

    try:
        if source == "upload" and upload is not None:
            return digits.read_upload(upload), None
        return (digits.from_drawing(pixels) if pixels is not None else None), None
    except digits.DigitImageError as error:
        return None, str(error)


def encode(model, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """image [28, 28] in [0, 1] -> (posterior mean mu [D], the digit decoded from mu [28, 28] in [0, 1])."""
    import torch

    from vae_core import explore

    with torch.no_grad():
        mu, _ = model.encode(torch.as_tensor(image, dtype=torch.float32).reshape(1, -1))
    return mu[0].numpy().astype(np.float64), explore.decode(model, mu)[0]


def map_projection(arrays: dict | None, latent_dim: int) -> np.ndarray | None:
    """The affine map A [D + 1, 2] with [mu, 1] @ A = the PCA map's coordinates, or None without cached means.

    The cache holds the PCA's coordinates, not the fitted PCA; PCA is affine, so a least-squares
    fit of the cached coordinates on the cached means recovers it (up to the means' float16 rounding).
    A 2-D latent space is drawn in its own coordinates: the identity.
    """
    if latent_dim == 2:
        return np.vstack([np.eye(2), np.zeros((1, 2))])
    if arrays is None:
        return None
    mu = np.asarray(arrays["mu"], dtype=np.float64)
    design = np.hstack([mu, np.ones((len(mu), 1))])
    return np.linalg.lstsq(design, np.asarray(arrays["pca"], dtype=np.float64), rcond=None)[0]


def map_position(projection: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """mu [D] -> (x, y) on the map whose affine projection [D + 1, 2] is ``projection``."""
    x, y = np.append(np.asarray(mu, dtype=np.float64), 1.0) @ projection
    return float(x), float(y)


@st.cache_resource(max_entries=32, hash_funcs=cache.HASH_FUNCS)
def map_projection_for(checkpoint):
    """The affine map from a latent mean [D] to the PCA map's coordinates of ``checkpoint``, built once."""
    return map_projection(cache.projections_for(checkpoint), checkpoint.model_config.latent_dim)
