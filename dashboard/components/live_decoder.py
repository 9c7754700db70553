"""The live decoder: a Streamlit component (``st.components.v2``) that decodes latent points in the browser.

The decoders are small (the MLP's z -> 400 -> 784, the conv net's two transposed convolutions),
so the page evaluates them itself and a digit follows a dragged slider or the pointer at frame
rate; Python hears the value on release or after a short pause and stays the source of truth for
everything else on the page. The page runs one interpreter over a layer list that travels with the
weights (``vae_core.layer_list``: traced from the model's ``decode``), so a registered architecture
decodes live as the built-ins do when its decoder is a chain of the layers the page knows. For any
other decoder the payload says why, and the views show the digit the server decoded at the point
last reported (``ServerDigit``), with one line saying so. The payload also says the image's shape (the model's
channels and side): the views draw the decoded logits, channels first, as a side x side picture, grey or RGB, at
the same size on screen whatever the side.

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


def weights_payload(model, model_id: str, layers=None) -> bytes:
    """The decoder's layer list and weights as one binary message for the browser.

    Layout: b"VAEW", u32 header length (little-endian), UTF-8 JSON header (id, architecture, latent_dim,
    ``channels`` (1 grey, 3 RGB) and ``side`` of the model's images, ``layers``: the op list of
    ``vae_core.layer_list.decoder_layers`` (ending in channels x side x side logits) or null, then ``server``: the
    phrase saying why the page cannot run it, and [name, shape] of each tensor the ops read), zero padding to a
    multiple of 4, then those tensors as float32 little-endian, row-major as torch stores them (Linear
    weights [out, in], Conv2d [out, in, kH, kW], ConvTranspose2d [in, out, kH, kW]). ``layers``: the
    model's ``Layers`` when the caller has them already.
    """
    if layers is None:
        from vae_core.layer_list import decoder_layers

        layers = decoder_layers(model)
    state = model.state_dict()
    tensors = [(name, state[name]) for name in layers.tensor_names()]
    config = model.config
    header = json.dumps({"id": model_id, "architecture": config.architecture, "latent_dim": config.latent_dim,
                         "channels": config.channels, "side": config.side, "layers": layers.ops,
                         "server": layers.reason, "tensors": [[name, list(t.shape)] for name, t in tensors]}).encode()
    padding = b"\0" * (-(8 + len(header)) % 4)
    floats = [t.detach().cpu().numpy().astype("<f4").reshape(-1) for _, t in tensors]
    body = np.concatenate(floats).tobytes() if floats else b""
    return MAGIC + struct.pack("<I", len(header)) + header + padding + body


@dataclass(frozen=True)
class ServerDigit:
    """What a view shows for a model whose decoder the page cannot run: the server's digit and why."""

    note: str  # one line: decoded on the server, at the point last reported, and why
    # [C x S x S] levels 0..255 of the picture decoded at ``point``, channels first as the model's logits (a grey
    # model's: its S x S grey levels); the page draws them in the shape its weights payload states
    grey: list[int]
    point: list[float]  # [D] the latent point

    def as_data(self) -> dict:
        return {"note": self.note, "grey": self.grey, "point": self.point}


def server_note(reason: str) -> str:
    """The one line a view shows instead of 'Decoded in your browser', for a decoder that ``reason`` describes."""
    return ("Decoded on the server at the point last reported (on release or a short pause), not as you drag: "
            f"the page cannot run this decoder, which {reason}.")


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
             plane: Plane | None, server: ServerDigit | None = None) -> dict[int, float] | None:
    """Mount the sliders + digit (+ plane) view; return the slider values the browser last reported.

    ``values`` (dim -> value) are applied in the browser only when ``signature`` (the start
    point's identity) changes, so a rerun during a drag never pulls a slider back.
    ``server``: the digit to show when the page cannot run this model's decoder.
    Returns None until the browser reports a point for this signature.
    """
    result = _component(
        key=key,
        data={"view": "explorer", "model": model_name, "base": [float(v) for v in base],
              "values": {str(d): float(v) for d, v in values.items()}, "dims": dims, "labels": labels,
              "signature": signature, "range": list(slider_range), "step": step,
              "plane": plane.as_data() if plane else None, "held": sorted(held()),
              "server": server.as_data() if server else None},
        on_point_change=lambda: None, on_held_change=lambda: _remember_held(key))
    return reported_values(result.point if result else None, signature, dims)


def pending_values(key: str, signature: str, dims: list[int]) -> dict[int, float] | None:
    """The values the browser reported to the explorer ``key`` before this run (read before it is mounted,
    so the server can decode the point the page shows when it cannot run the decoder)."""
    return reported_values((st.session_state.get(key) or {}).get("point"), signature, dims)


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

    ``walks``: [{"model": name, "label": column title, "start": [D], "end": [D]}], plus "grey": the levels of
    ``ServerDigit.grey`` at ``walk_position(key)`` for a model whose decoder the page cannot run.
    """
    t = walk_position(key)
    _component(key=key, data={"view": "walk", "walks": walks, "signature": signature, "t": t, "note": note,
                              "held": sorted(held())},
               on_t_change=lambda: None, on_held_change=lambda: _remember_held(key))


def walk_position(key: str) -> float:
    """The walk's position t in [0, 1] that the browser last reported (0.5 before it has)."""
    t = (st.session_state.get(key) or {}).get("t")
    return float(t) if isinstance(t, (int, float)) and 0 <= t <= 1 else 0.5
