"""The live decoder: a Streamlit component (``st.components.v2``) that decodes latent points in the browser.

The decoders are small (the MLP's z -> 400 -> 784, the conv net's two transposed
convolutions), so the page evaluates them itself and a digit follows a dragged slider or the
pointer at frame rate; Python hears the value on release or after a short pause and stays
the source of truth for everything else on the page.

Weights travel once per model per browser session, as bytes (``weights_payload``): the view
reports which models the page holds (its ``held`` state) and only the others are mounted.
Only weights of checkpoints from the sidebar's scan are ever sent, and the JS (live_decoder.js, on the
shared base.js: see assets.py) evaluates no strings. A view's root element names the model(s) it
decodes with (``data-model``) and, once it has drawn with their weights, ``data-drawn``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np
import streamlit as st

from dashboard.components import assets
from dashboard.components import held as payloads_held

NAME = "vae_live_decoder"
MAGIC = b"VAEW"
HELD_KEY = "live_decoder_held"  # model names the page holds, as its views last reported

_component = assets.component(NAME, js="live_decoder.js", css="live_decoder.css")


# The decoder layers the page evaluates, per architecture, in the order the payload carries them.
# Every architecture of vae_core.models.MODELS has an entry (tests/test_live_decoder.py holds it so).
DECODER_LAYERS = {
    "mlp": ("decoder_hidden", "decoder_out"),  # Linear -> ReLU -> Linear
    "conv": ("decoder_in", "decoder_deconv1", "decoder_deconv2"),  # Linear -> ReLU -> ConvT -> ReLU -> ConvT
}


def weights_payload(model, model_id: str) -> bytes:
    """The decoder's weights as one binary message for the browser.

    Layout: b"VAEW", u32 header length (little-endian), UTF-8 JSON header (id, architecture,
    latent_dim, and [name, shape] of each tensor), zero padding to a multiple of 4, then the
    tensors as float32 little-endian, row-major as torch stores them (Linear weights [out, in],
    transposed-convolution weights [in, out, kH, kW]).
    """
    layers = DECODER_LAYERS[model.config.architecture]
    tensors = [(f"{layer}.{kind}", getattr(getattr(model, layer), kind)) for layer in layers
               for kind in ("weight", "bias")]
    header = json.dumps({"id": model_id, "architecture": model.config.architecture,
                         "latent_dim": model.config.latent_dim,
                         "tensors": [[name, list(t.shape)] for name, t in tensors]}).encode()
    padding = b"\0" * (-(8 + len(header)) % 4)
    floats = np.concatenate([t.detach().cpu().numpy().astype("<f4").reshape(-1) for _, t in tensors])
    return MAGIC + struct.pack("<I", len(header)) + header + padding + floats.tobytes()


def held() -> set[str]:
    return payloads_held.held(HELD_KEY)


def _remember_held(key: str) -> None:
    payloads_held.remember(HELD_KEY, key)


def bundle(payloads: list[bytes]) -> bytes:
    """Several ``weights_payload``s in one message: b"VAEB", then each as u32 length (little-endian) + payload."""
    return b"VAEB" + b"".join(struct.pack("<I", len(p)) + p for p in payloads) if payloads else b""


def send_weights(key: str, payloads: dict[str, bytes]) -> None:
    """Mount the weights of the models the page does not hold yet (name -> ``weights_payload``).

    One element under ``key`` on every run, empty once the page holds them all, so the layout
    below it never moves when the weights stop being sent.
    """
    missing = [payload for name, payload in payloads.items() if name not in held()]
    _component(data=bundle(missing), key=key, height=0, width="content")


@dataclass(frozen=True)
class Plane:
    """A hover plane over latent dimensions ``x`` and ``y`` with the test means drawn behind it."""

    x: int
    y: int
    points_x: list[float]
    points_y: list[float]
    labels: list[int]
    note: str

    def as_data(self) -> dict:
        return {"x": self.x, "y": self.y, "note": self.note,
                "points": {"x": self.points_x, "y": self.points_y, "labels": self.labels}}


def plane_points(mu: np.ndarray | None, labels: np.ndarray | None, dims: tuple[int, int],
                 limit: int = 2500) -> tuple[list[float], list[float], list[int]]:
    """(x, y, label) lists of at most ``limit`` test means [N, D] in ``dims``, rounded for a small message."""
    if mu is None or labels is None:
        return [], [], []
    take = np.linspace(0, len(mu) - 1, min(limit, len(mu))).astype(int)
    x, y = (np.round(np.asarray(mu[take, d], dtype=np.float64), 3).tolist() for d in dims)
    return x, y, [int(v) for v in np.asarray(labels)[take]]


def explorer(key: str, model_name: str, base: list[float], values: dict[int, float], dims: list[int],
             labels: list[str], signature: str, slider_range: tuple[float, float], step: float,
             plane: Plane | None) -> dict[int, float] | None:
    """Mount the sliders + digit (+ plane) view; return the slider values the browser last reported.

    ``values`` (dim -> value) are applied in the browser only when ``signature`` (the start
    point's identity) changes, so a rerun during a drag never pulls a slider back.
    Returns None until the browser reports a point for this signature.
    """
    result = _component(
        key=key,
        data={"view": "explorer", "model": model_name, "base": [float(v) for v in base],
              "values": {str(d): float(v) for d, v in values.items()}, "dims": dims, "labels": labels,
              "signature": signature, "range": list(slider_range), "step": step,
              "plane": plane.as_data() if plane else None, "held": sorted(held())},
        on_point_change=lambda: None, on_held_change=lambda: _remember_held(key))
    return reported_values(result.point if result else None, signature, dims)


def reported_values(point, signature: str, dims: list[int]) -> dict[int, float] | None:
    """The browser's {"signature", "values"} state -> {dim: value} for shown dims, if it is for this signature."""
    if not isinstance(point, dict) or point.get("signature") != signature:
        return None
    values = point.get("values")
    if not isinstance(values, dict):
        return None
    out = {}
    for dim in dims:
        value = values.get(str(dim))
        if isinstance(value, (int, float)) and np.isfinite(value):
            out[dim] = float(value)
    return out


def walk(key: str, walks: list[dict], signature: str, note: str) -> None:
    """Mount the walk view: one digit per model at ``start + t (end - start)`` of each walk, one slider for t.

    ``walks``: [{"model": name, "label": column title, "start": [D], "end": [D]}].
    """
    t = (st.session_state.get(key) or {}).get("t")
    t = float(t) if isinstance(t, (int, float)) and 0 <= t <= 1 else 0.5
    _component(key=key, data={"view": "walk", "walks": walks, "signature": signature, "t": t, "note": note,
                              "held": sorted(held())},
               on_t_change=lambda: None, on_held_change=lambda: _remember_held(key))
