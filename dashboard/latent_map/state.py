"""The Latent map's view: the projection, the legend, the selection and the zoom, and their URL form.

Streamlit binds the projection picker to the URL (``map``). The canvas reports what Streamlit
cannot bind, and ``dashboard.shell.links`` writes it by hand:

- ``hide=3,8``: the classes hidden in the legend;
- ``select=box:x0,y0,x1,y1``, ``select=lasso:x,y,x,y,...`` or ``select=row:17``: the selection as
  shapes in the map's data coordinates (a clicked point by its test row); shapes added with
  shift are joined by ``;``;
- ``view=cx,cy,zoom``: the map's camera (its centre in data coordinates, zoom 1 to ``canvas.MAX_ZOOM``),
  written once a zoom or pan has ended; absent for the whole map.

All three belong to one projection of one model: they are kept per (model, projection), so another
model or projection shows its own (none at first: the whole map) and the URL follows. A link's
``select`` and ``view`` are taken only when the link's ``model`` and ``map`` are the ones drawn. A bad
value is ignored whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import streamlit as st

from dashboard.components import canvas
from dashboard.shell import charts, links, view

METHOD_KEY = "map"  # the widget's key and the URL parameter: ?map=t-SNE
HIDE, SELECT, VIEW = "hide", "select", "view"  # the URL parameters we write (links.PAGE_PARAMS["latent-map"])


@dataclass(frozen=True)
class MapView:
    """One model's map: its name, the projection shown, the classes hidden, the selection's shapes and the camera."""

    model: str
    method: str
    classes: int = 10  # how many classes the legend lists
    hidden: tuple[int, ...] = ()
    selection: tuple = ()  # canvas.selection_parts: {"box": [...]}, {"lasso": [[x, y], ...]}, {"row": r}
    viewport: tuple[float, float, float] | None = None  # canvas.viewport_value: (cx, cy, zoom); None: whole map

    @property
    def component_key(self) -> str:
        """The canvas' key: a new model or projection mounts a new map, never the old points under a new title."""
        return f"latent_map_{self.model}_{self.method}"

    @property
    def store_key(self) -> str:
        """Where this map's legend, selection and camera are kept in session state."""
        return f"latent_map_view_{self.model}_{self.method}"

    def url(self) -> dict[str, str | None]:
        """The URL parameters of the legend, the selection and the camera (None: the parameter goes)."""
        return {HIDE: ",".join(map(str, self.hidden)) or None, SELECT: selection_text(self.selection) or None,
                VIEW: viewport_text(self.viewport) or None}

    def heard(self) -> None:
        """The canvas' callback: keep what it reported (checked) as this map's legend, selection and camera;
        what it never reported stays as it was (a link's selection outlives a click in the legend)."""
        kept = dict(st.session_state.get(self.store_key, {}))
        kept.update(canvas.reported(self.component_key, self.classes))
        st.session_state[self.store_key] = kept


def choose(checkpoint, classes: int, help_text: str, label: str = "") -> MapView:
    """The projection picker for ``checkpoint`` (named ``label`` in the address) -> the view, with a link's
    legend, selection and camera taken in."""
    linked = {name: st.query_params.get(name) for name in ("model", METHOD_KEY)}  # before the radio rewrites it
    methods = charts.map_methods(checkpoint.model_config.latent_dim)
    view.keep_valid(METHOD_KEY, methods)  # kept across models that offer it, like the URL's ``map``
    method = st.radio("Map", methods, horizontal=True, key=METHOD_KEY, help=help_text, bind="query-params")
    shown = MapView(checkpoint.name, method, classes)
    _take_link(shown, linked["model"] in (None, shown.model, label) and linked[METHOD_KEY] in (None, method)
               and (linked[METHOD_KEY] is not None or method == methods[0]))
    kept = st.session_state.get(shown.store_key, {})
    shown = replace(shown, hidden=kept.get("hidden", ()), selection=kept.get("selection", ()),
                    viewport=kept.get("viewport"))
    links.share(**shown.url())
    return shown


def _take_link(shown: MapView, same_map: bool) -> None:
    """A link's ``hide`` and (when it names this map) ``select`` and ``view`` become this map's, when they are
    valid."""
    hide = links.requested(HIDE)
    select, view = (links.requested(SELECT), links.requested(VIEW)) if same_map else (None, None)
    if hide is None and select is None and view is None:
        return
    kept = dict(st.session_state.get(shown.store_key, {}))
    if hide is not None and re.fullmatch(r"[0-9]{1,2}(,[0-9]{1,2}){0,19}", hide):
        kept["hidden"] = canvas.hidden_classes([int(k) for k in hide.split(",")], shown.classes)
    if select is not None:
        kept["selection"] = parse_selection(select)
    if view is not None:
        kept["viewport"] = parse_viewport(view)
    st.session_state[shown.store_key] = kept


def selection_text(parts) -> str:
    """Shapes as the URL spells them: 'box:x0,y0,x1,y1', 'lasso:x,y,...' or 'row:r', joined by ';'."""
    def shape(part: dict) -> str:
        if "row" in part:
            return f"row:{part['row']}"
        kind, at = next(iter(part.items()))
        flat = at if kind == "box" else [v for corner in at for v in corner]
        return f"{kind}:{','.join(_number_text(v) for v in flat)}"

    return ";".join(shape(part) for part in parts)


def parse_selection(text: str) -> tuple:
    """The URL's ``select`` -> checked shapes (``canvas.selection_parts``); () when any part is bad."""
    parts = []
    for piece in text.split(";")[:canvas.MAX_PARTS + 1]:
        kind, _, rest = piece.partition(":")
        if kind == "row":
            parts.append({"row": int(rest)} if re.fullmatch(r"[0-9]{1,7}", rest) else None)
            continue
        numbers = links.numbers(rest) if kind in ("box", "lasso") else None
        if numbers is None or (kind == "lasso" and len(numbers) % 2):
            return ()
        parts.append({kind: numbers if kind == "box" else [numbers[k:k + 2] for k in range(0, len(numbers), 2)]})
    return canvas.selection_parts(parts)


def viewport_text(viewport) -> str:
    """The camera as the URL spells it: 'cx,cy,zoom' ('' for the whole map)."""
    return ",".join(_number_text(v) for v in viewport) if viewport else ""


def parse_viewport(text: str) -> tuple[float, float, float] | None:
    """The URL's ``view`` -> (cx, cy, zoom) (``canvas.viewport_value``); None (the whole map) when it is bad."""
    numbers = links.numbers(text)
    return canvas.viewport_value(numbers) if numbers is not None else None


def _number_text(value: float) -> str:
    """A coordinate, exact to the 6 decimals the page rounds to at most: '1.25', '-3', never '-0'."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
