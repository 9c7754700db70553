"""Our canvases: a Streamlit component (``st.components.v2``) for the latent map and the drawing pad.

The map draws every projected test mean itself and shows the hovered digit's thumbnail at the
cursor from a sprite sheet the page received once (``sprites.sprite_payload``), so hovering never waits
for the server. A selectable map reports the classes hidden in its legend (``hidden``) and its selection
(a click, a dragged box or a lasso; shift adds) as shapes in the map's data coordinates (``selection``,
see ``selection_parts``), short enough for a URL; both come back in its data, so a page can restore
them. The selected rows follow from the shapes, in Python (``selected_rows``) and in the page alike.
A zoomable map (every full-size one; not a grid's tiles, over which the wheel scrolls the page) zooms
with the wheel or a pinch and pans with a drag (map_zoom.js says how and why); a selectable one reports
its camera once a gesture ends (``viewport``: [cx, cy, zoom], [] for the whole map, see
``viewport_value``) and takes it back from its data like the selection.
The pad draws a digit with a soft pen and reports its 784 grey levels at the end of each stroke.
The JS (canvas.js, on the shared base.js: see assets.py) evaluates no strings and fetches nothing.

A map's root element says what it draws: ``data-model``, ``data-method``, ``data-points`` (how
many), ``data-fingerprint`` (of the coordinates) and, once drawn, ``data-drawn``, ``data-zoom``,
``data-center`` (the camera as reported) and ``data-neighbours`` (the rows ringed as a click's neighbours);
its canvas has an ``aria-label``; a full-size map's PNG button saves it as drawn (map_export.js). Compare draws
one small map per model with ``map_tile``, keyed by model and projection so that a new model's
points always replace the old::

    sprite = None
    if split is not None:  # the thumbnails, sent once per browser session
        sprite, payload = payloads.sprite_for(dataset)
        canvas.send_sprite("compare_sprite", sprite, payload)
    for checkpoint, column in zip(models, st.columns(len(models))):
        with column:
            canvas.map_tile(payloads.map_points_for(checkpoint, method), captions.class_names(dataset),
                            charts.DIGIT_COLORS, model=checkpoint.name, method=method,
                            label=label[checkpoint.name], sprite=sprite, height=240)

All maps draw on 2-D canvases: no WebGL context, however many models a page compares.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import streamlit as st

from dashboard.components import assets
from dashboard.components import held as payloads_held

NAME = "vae_canvas"
HELD_KEY = "canvas_sprites_held"  # sprite ids the page holds, as it last reported
MAX_PARTS = 8  # shapes in one selection (shift adds one; the page keeps the last 8)
MAX_CORNERS = 48  # corners of one lasso (the page simplifies a drawn path to at most this many)
MAX_COORDINATE = 1e5  # a shape's coordinates lie within +-this (projections span tens of units)
MAX_ZOOM = 200  # a map zooms from 1 (the whole map) to this (map_zoom.js's MAX_ZOOM)
FIND_ZOOM = 8  # a searched point is shown at least this close (canvas.js's FIND_ZOOM)

_component = assets.component(NAME, js="canvas.js", css="canvas.css")


def held() -> set[str]:
    return payloads_held.held(HELD_KEY)


def _remember_held(key: str) -> None:
    payloads_held.remember(HELD_KEY, key)


def send_sprite(key: str, sprite_id: str, payload) -> None:
    """Mount the sprite sheet unless the page holds it (``payload`` is called only when it must be sent): one (empty
    once held) element under ``key`` on every run, so the layout below never moves."""
    data = b"" if sprite_id in held() else payload() or b""  # None: the images are not there to send
    _component(data=data, key=key, height=0, width="content", on_held_change=lambda: _remember_held(key))


@dataclass(frozen=True)
class MapPoints:
    """A 2-D map of test digits: coordinates, their test rows and classes, and the axis titles."""

    x: np.ndarray  # [M]
    y: np.ndarray  # [M]
    rows: np.ndarray  # [M] rows of the test set (index into the sprite)
    labels: np.ndarray  # [M] classes 0..9
    axes: tuple[str, str]
    title: str
    train_from: int | None = None  # rows from here on are training digits (drawn faint); None: test digits only

    @cached_property
    def fingerprint(self) -> str:
        """16 hex digits of the coordinates, rows and classes: the page redraws the points when it changes."""
        digest = hashlib.blake2b(digest_size=8)
        for array, kind in ((self.x, "<f8"), (self.y, "<f8"), (self.rows, "<i8"), (self.labels, "<i8")):
            digest.update(np.ascontiguousarray(array, dtype=kind).tobytes())
        return digest.hexdigest()

    @cached_property
    def data(self) -> dict:
        """The points as the page takes them: built once per set of points (a cached map's every rerun sends the
        same 70,000 coordinates)."""
        return {"id": self.fingerprint, "x": np.round(np.asarray(self.x, dtype=np.float64), 4).tolist(),
                "y": np.round(np.asarray(self.y, dtype=np.float64), 4).tolist(),
                "rows": [int(r) for r in self.rows], "labels": [int(k) for k in self.labels],
                "trainFrom": self.train_from}


def map_alt(points: MapPoints, label: str = "", colouring: dict | None = None) -> str:
    """The map's text alternative, e.g. "Latent map of MNIST, z = 10: PCA of test means, 10,000 points coloured by
    class" (or by a ``map_colour.colouring``'s title)."""
    subject, by = f"Latent map of {label}" if label else "Latent map", (colouring or {}).get("title", "class")
    return f"{subject}: {points.title}, {len(points.rows):,} points coloured by {by[:1].lower()}{by[1:]}"


def latent_map(key: str, points: MapPoints, names: tuple[str, ...], colors: tuple[str, ...], *,
               sprite: str | None, note: str = "", marker: dict | None = None, height: int = 560,
               selectable: bool = True, selection: tuple = (), hidden: tuple[int, ...] = (), on_change=None,
               model: str = "", method: str = "", label: str = "", title: str | None = None, alt: str | None = None,
               width: int | None = None, compact: bool = False, legend: bool = True,
               zoomable: bool | None = None, viewport: tuple[float, float, float] | None = None,
               neighbours: dict | None = None, find: dict | None = None, colouring: dict | None = None,
               contours: list | None = None) -> list[int]:
    """Mount the map; return the test rows of ``selection`` whose class is not ``hidden``, [] when none.

    ``sprite``: the id of a sprite sheet sent with ``send_sprite`` (None: hover names the digit, no thumbnail).
    ``marker``: {"x", "y", "label"} drawn as a star (the reader's own digit).
    ``selectable``: False for a map whose page does nothing with a selection (no Box / Lasso buttons).
    ``selection``, ``hidden``, ``viewport``: shapes (``selection_parts``), classes and the camera
    (``viewport_value``; None: the whole map) the map shows; where they differ from what it was last given
    (and from what it reported), the page takes them. A selectable map reports its own changes under the
    same names (``reported``) and calls ``on_change`` before the rerun.
    ``zoomable``: whether the wheel, a drag and the keys zoom and pan (default: a map that is not compact).
    ``neighbours``: {"row": r, "rows": [...]}: the nearest neighbours of the clicked row r, ringed while r alone is
    selected (r None: always). ``find``: {"row": r, "id": n}, a search: the map selects r and centres on it (zooming
    in to at least ``FIND_ZOOM``), reports both and reports ``found``: n (once per id). ``colouring``, ``contours``: the
    points' colours by a value (None: by class) and the density lines under them (``map_colour``).
    ``model``, ``method``: what the map shows, as its root's data attributes; ``label`` (the model's
    name for a reader) goes into ``alt``, the canvas' ``aria-label`` (default ``map_alt``).
    ``width``: CSS pixels (at most the column's); None fills the column. ``compact``: small margins,
    fonts and thumbnails for a grid of maps; ``legend``: False where the page shows one legend for all.
    """
    radius = (1.5 if compact else 2.0) if len(points.rows) <= 3000 else (1.0 if compact else 1.5)
    callback = on_change or (lambda: None)
    _component(key=key, data={"view": "map", "key": key, "points": points.data, "names": list(names),
                              "colors": list(colors), "axes": list(points.axes), "title": title or points.title,
                              "sprite": sprite, "note": note, "marker": marker, "height": height,
                              "radius": radius, "selection": list(selection), "hidden": sorted(hidden),
                              "selectable": selectable, "model": model, "method": method,
                              "alt": alt or map_alt(points, label, colouring), "width": width, "compact": compact,
                              "legend": legend, "zoomable": not compact if zoomable is None else zoomable,
                              "viewport": list(viewport) if viewport else None, "neighbours": neighbours,
                              "find": find, "colouring": colouring, "contours": contours or []},
               width=width or "stretch", on_selection_change=callback, on_hidden_change=callback,
               on_viewport_change=callback, on_found_change=callback)
    return selected_rows(points, selection, hidden)


def reported(key: str, classes: int) -> dict:
    """What the map under ``key`` has reported, checked: {"selection", "hidden", "viewport", "found"}, each only once
    reported (a value that fails its check is the default: no selection, no class hidden, the whole map, no
    search answered)."""
    state = st.session_state.get(key)
    if not isinstance(state, dict):
        return {}
    checks = {"selection": selection_parts, "hidden": lambda value: hidden_classes(value, classes),
              "viewport": viewport_value, "found": lambda value: value if _whole(value) else None}
    return {name: check(state[name]) for name, check in checks.items() if name in state}


def map_tile(points: MapPoints, names: tuple[str, ...], colors: tuple[str, ...], *, model: str, method: str,
             sprite: str | None, label: str = "", title: str | None = None, width: int | None = None,
             height: int = 240) -> None:
    """One small map of a grid (Compare): compact, no legend, no selection and no zoom (the wheel scrolls the
    page past a grid), hover thumbnails kept.

    Keyed by ``model`` and ``method``, so each model's map is its own element and a new model's
    points never show under an old one's title. ``title`` wraps instead of being cut.
    """
    latent_map(f"map_tile_{model}_{method}", points, names, colors, sprite=sprite, height=height,
               selectable=False, model=model, method=method, label=label, title=title, width=width,
               compact=True, legend=False, zoomable=False)


def hidden_classes(value, classes: int) -> tuple[int, ...]:
    """Reported hidden classes -> distinct classes in [0, classes), sorted; anything else is dropped."""
    if not isinstance(value, list):
        return ()
    return tuple(sorted({k for k in value[:classes * 2] if _whole(k) and 0 <= k < classes}))


def selection_parts(value) -> tuple:
    """A reported selection -> its checked shapes, in data coordinates; () when any part is malformed.

    A part is {"box": [x0, y0, x1, y1]} (x0 <= x1, y0 <= y1), {"lasso": [[x, y], ...]} (3 to
    ``MAX_CORNERS`` corners) or {"row": r} (a clicked point's test row); at most ``MAX_PARTS`` of them.
    """
    if not isinstance(value, list) or len(value) > MAX_PARTS:
        return ()
    parts = []
    for part in value:
        checked = _part(part)
        if checked is None:
            return ()
        parts.append(checked)
    return tuple(parts)


def _part(part) -> dict | None:
    if not isinstance(part, dict) or len(part) != 1:
        return None
    (kind, at), = part.items()
    if kind == "row":
        return {"row": at} if _whole(at) and 0 <= at < 10**7 else None
    if kind == "box" and isinstance(at, list) and len(at) == 4 and all(map(_coordinate, at)):
        x0, y0, x1, y1 = (float(v) for v in at)
        return {"box": [x0, y0, x1, y1]} if x0 <= x1 and y0 <= y1 else None
    if (kind == "lasso" and isinstance(at, list) and 3 <= len(at) <= MAX_CORNERS
            and all(isinstance(c, list) and len(c) == 2 and all(map(_coordinate, c)) for c in at)):
        return {"lasso": [[float(x), float(y)] for x, y in at]}
    return None


def viewport_value(value) -> tuple[float, float, float] | None:
    """A reported or linked camera [cx, cy, zoom] -> (cx, cy, zoom); None (the whole map) for [], zoom 1 or anything
    malformed: not three finite numbers, a centre beyond +-``MAX_COORDINATE`` or a zoom outside [1, ``MAX_ZOOM``]."""
    if not isinstance(value, (list, tuple)) or len(value) != 3 or not all(map(_coordinate, value)):
        return None
    cx, cy, zoom = (float(v) for v in value)
    return (cx, cy, zoom) if 1 < zoom <= MAX_ZOOM else None


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coordinate(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and abs(value) <= MAX_COORDINATE)


def selected_rows(points: MapPoints, selection, hidden=()) -> list[int]:
    """Test rows of the points inside any part of ``selection`` whose class is not ``hidden``, in the map's order.

    Computed on the coordinates the page draws (``data``'s rounding) with the page's arithmetic, so
    the rows listed here are the points the page marks.
    """
    if not selection or not len(points.rows):
        return []
    x = np.round(np.asarray(points.x, dtype=np.float64), 4)
    y = np.round(np.asarray(points.y, dtype=np.float64), 4)
    rows = np.asarray(points.rows, dtype=np.int64)
    inside = np.zeros(len(rows), dtype=bool)
    for part in selection:
        if "box" in part:
            x0, y0, x1, y1 = part["box"]
            inside |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        elif "lasso" in part:
            inside |= _in_polygon(x, y, part["lasso"])
        else:
            inside |= rows == part["row"]
    inside &= ~np.isin(np.asarray(points.labels), list(hidden))
    return rows[inside].tolist()


def _in_polygon(x: np.ndarray, y: np.ndarray, corners: list) -> np.ndarray:
    """The even-odd rule, with the page's ``insidePolygon`` arithmetic (a ray to the right of each point)."""
    inside = np.zeros(len(x), dtype=bool)
    for (xi, yi), (xj, yj) in zip(corners, [corners[-1], *corners[:-1]], strict=True):
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside ^= crosses & (x < (xj - xi) * (y - yi) / (yj - yi) + xi)
    return inside


def drawing(key: str, pixels: list | None, note: str = "", on_change=None) -> list | None:
    """Mount the drawing pad; return the 784 grey levels it last reported (None before the first stroke).

    ``pixels`` (784 values) are painted back onto a fresh pad, e.g. when the page is opened again.
    """
    result = _component(key=key, data={"view": "draw", "pixels": pixels, "note": note},
                        on_pixels_change=on_change or (lambda: None))
    value = result.pixels if result is not None else None
    return value if isinstance(value, list) else None
