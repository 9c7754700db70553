"""The Latent map's view: the projection, the legend, the selection, the zoom and the neighbours, and their URL form.

Streamlit binds the projection picker to the URL (``map``). The canvas reports what Streamlit
cannot bind, and ``dashboard.shell.links`` writes it by hand:

- ``hide=3,8``: the classes hidden in the legend;
- ``select=box:x0,y0,x1,y1``, ``select=lasso:x,y,x,y,...`` or ``select=row:17``: the selection as
  shapes in the map's data coordinates (a clicked point by its test row); shapes added with
  shift are joined by ``;``;
- ``view=cx,cy,zoom``: the map's camera (its centre in data coordinates, zoom 1 to ``canvas.MAX_ZOOM``),
  written once a zoom or pan has ended; absent for the whole map;
- ``k=12``: how many nearest neighbours a clicked point lists (1 to ``MAX_K``); absent for ``DEFAULT_K``;
- ``color=nelbo``, ``color=dim3``: what colours the points (``map_colour.options``); absent for the class;
- ``contours=all`` or ``contours=class``: the density lines under the points; absent for none;
- ``points=all``: the training digits drawn with the test digits (their rows follow the test rows); absent for the
  test digits alone.

A clicked point is the selection ``row:r`` alone (a search selects the same way); its neighbours are
the click's, so a box or a lasso lists none. A search is a request to the map (``find``): the map
selects the row and centres on it as a click and a zoom would, and reports both, so the selection
and the camera only ever change through the map's own reports.

All of them belong to one projection of one model: they are kept per (model, projection), so another
model or projection shows its own (none at first: the whole map) and the URL follows. A link's
``select`` and ``view`` are taken only when the link's ``model`` and ``map`` are the ones drawn. A bad
value is ignored whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import streamlit as st

from dashboard.components import canvas, map_colour
from dashboard.shell import charts, links, view

METHOD_KEY = "map"  # the widget's key and the URL parameter: ?map=t-SNE
HIDE, SELECT, VIEW, K = "hide", "select", "view", "k"  # the URL parameters we write (links.PAGE_PARAMS)
COLOUR, CONTOURS, POINTS = "color", "contours", "points"
DEFAULT_K, MAX_K = 8, 20  # nearest neighbours listed for a clicked point


@dataclass(frozen=True)
class MapView:
    """One model's map: its name, the projection shown, the classes hidden, the selection's shapes and the camera."""

    model: str
    method: str
    classes: int = 10  # how many classes the legend lists
    hidden: tuple[int, ...] = ()
    selection: tuple = ()  # canvas.selection_parts: {"box": [...]}, {"lasso": [[x, y], ...]}, {"row": r}
    viewport: tuple[float, float, float] | None = None  # canvas.viewport_value: (cx, cy, zoom); None: whole map
    k: int = DEFAULT_K  # nearest neighbours of a clicked point
    find: dict | None = None  # a search the map has not answered yet: {"row": r, "id": n}
    colour: str = map_colour.CLASS  # what colours the points: one of map_colour.options
    contours: str = "off"  # the density lines under the points: a key of map_colour.CONTOURS
    every: bool = False  # the training digits too (``cache.every_point_for``), not the test digits alone

    @property
    def component_key(self) -> str:
        """The canvas' key: a new model, projection or set of points mounts a new map, never the old points under a
        new title."""
        return f"latent_map_{self.model}_{self.method}" + ("_all" if self.every else "")

    @property
    def store_key(self) -> str:
        """Where this map's legend, selection and camera are kept in session state."""
        return f"latent_map_view_{self.model}_{self.method}"

    @property
    def k_key(self) -> str:
        """The neighbour count's widget key (its value is kept with the view, so it outlives its widget)."""
        return f"{self.component_key}_k"

    @property
    def search_key(self) -> str:
        return f"{self.component_key}_search"

    def url(self) -> dict[str, str | None]:
        """The URL parameters of the legend, the selection, the camera and k (None: the parameter goes)."""
        return {HIDE: ",".join(map(str, self.hidden)) or None, SELECT: selection_text(self.selection) or None,
                VIEW: viewport_text(self.viewport) or None, K: str(self.k) if self.k != DEFAULT_K else None,
                COLOUR: None if self.colour == map_colour.CLASS else self.colour,
                CONTOURS: None if self.contours == "off" else self.contours, POINTS: "all" if self.every else None}

    def clicked(self, selected: list[int]) -> int | None:
        """The clicked (or searched) point: the selection is one row, and the map shows it; else None."""
        parts = self.selection
        return parts[0]["row"] if len(parts) == 1 and "row" in parts[0] and selected == [parts[0]["row"]] else None

    def heard(self) -> None:
        """The canvas' callback: keep what it reported (checked) as this map's legend, selection and camera;
        what it never reported stays as it was (a link's selection outlives a click in the legend). A search the
        map answered is done."""
        kept = dict(st.session_state.get(self.store_key, {}))
        reported = canvas.reported(self.component_key, self.classes)
        if kept.get("find") and reported.pop("found", None) == kept["find"]["id"]:
            del kept["find"]
        kept.update({name: value for name, value in reported.items() if name != "found"})
        st.session_state[self.store_key] = kept

    def k_heard(self) -> None:
        """The neighbour count's callback: kept with the view."""
        self._keep(k=parse_k(str(st.session_state.get(self.k_key))) or DEFAULT_K)

    @property
    def colour_key(self) -> str:
        return f"{self.component_key}_colour"

    @property
    def contours_key(self) -> str:
        return f"{self.component_key}_contours"

    @property
    def points_key(self) -> str:
        return f"latent_map_{self.model}_{self.method}_points"

    def points_heard(self) -> None:
        """The every-digit switch's callback: kept with the view (the camera and the shapes stay)."""
        self._keep(every=bool(st.session_state.get(self.points_key)))

    def colour_heard(self) -> None:
        """The pickers' callback: the colouring and the density lines are kept with the view."""
        self._keep(colour=st.session_state.get(self.colour_key, map_colour.CLASS),
                   contours=st.session_state.get(self.contours_key, "off"))

    def searched(self, on_map, total: int, method: str, train_from: int | None = None) -> None:
        """The search box's callback: a test index (or "train N" when the map shows the training digits from row
        ``train_from``) on this map becomes a request to the map (``find``) and the box empties; anything else is
        one line under the box (``search_note``). ``on_map``: the rows the map draws (an array)."""
        text = str(st.session_state.get(self.search_key) or "").strip()
        found = parse_index(text, total, train_from)
        if isinstance(found, str) or not text:
            st.session_state[self.search_note_key] = found if text else None
            return
        if found not in on_map:
            st.session_state[self.search_note_key] = (f"{text} is not on the {method} map (it shows "
                                                      f"{len(on_map):,} of the {total:,} digits).")
            return
        count = st.session_state.get(self.store_key, {}).get("searches", 0) + 1
        self._keep(find={"row": found, "id": count}, searches=count)
        st.session_state[self.search_note_key] = None
        st.session_state[self.search_key] = ""

    @property
    def search_note_key(self) -> str:
        return f"{self.search_key}_note"

    def _keep(self, **values) -> None:
        st.session_state[self.store_key] = {**st.session_state.get(self.store_key, {}), **values}


def choose(checkpoint, classes: int, help_text: str, label: str = "",
           colours: tuple[str, ...] = (map_colour.CLASS,), every_cached: bool = False) -> MapView:
    """The projection picker for ``checkpoint`` (named ``label`` in the address) -> the view, with a link's legend,
    selection, camera, colouring (one of ``colours``, what the map offers), contours and points taken in; every
    digit only when ``every_cached`` (the training digits are placed on this model's maps)."""
    linked = {name: st.query_params.get(name) for name in ("model", METHOD_KEY)}  # before the radio rewrites it
    methods = charts.map_methods(checkpoint.model_config.latent_dim)
    view.keep_valid(METHOD_KEY, methods)  # kept across models that offer it, like the URL's ``map``
    method = st.radio("Map", methods, horizontal=True, key=METHOD_KEY, help=help_text, bind="query-params")
    shown = MapView(checkpoint.name, method, classes)
    _take_link(shown, linked["model"] in (None, shown.model, label) and linked[METHOD_KEY] in (None, method)
               and (linked[METHOD_KEY] is not None or method == methods[0]), colours)
    kept = st.session_state.get(shown.store_key, {})
    shown = replace(shown, hidden=kept.get("hidden", ()), selection=kept.get("selection", ()),
                    viewport=kept.get("viewport"), k=kept.get("k", DEFAULT_K), find=kept.get("find"),
                    colour=map_colour.parse(kept.get("colour"), list(colours)) or map_colour.CLASS,
                    contours=kept.get("contours") if kept.get("contours") in map_colour.CONTOURS else "off",
                    every=bool(kept.get("every")) and every_cached)
    st.session_state[shown.points_key] = shown.every
    # The widgets, when drawn, show the view's k, colouring and contours (a link's, or an offered one). They are told
    # on every run: a widget redrawn after a run that missed it can otherwise fall back to its default (the slider's
    # minimum, k = 1) and report that as a change.
    for key, value in ((shown.k_key, shown.k), (shown.colour_key, shown.colour), (shown.contours_key, shown.contours)):
        st.session_state[key] = value
    links.share(**shown.url())
    return shown


def _take_link(shown: MapView, same_map: bool, colours: tuple[str, ...] = ()) -> None:
    """A link's ``hide`` and (when it names this map) ``select``, ``view``, ``k``, ``color`` and ``contours`` become
    this map's, when they are valid (a bad colouring or contours value is the default)."""
    hide = links.requested(HIDE)
    names = (SELECT, VIEW, K, COLOUR, CONTOURS, POINTS)
    select, view, k, colour, contours, every = (links.requested(n) for n in names) if same_map else (None,) * len(names)
    if all(value is None for value in (hide, select, view, k, colour, contours, every)):
        return
    kept = dict(st.session_state.get(shown.store_key, {}))
    if hide is not None and re.fullmatch(r"[0-9]{1,2}(,[0-9]{1,2}){0,19}", hide):
        kept["hidden"] = canvas.hidden_classes([int(k) for k in hide.split(",")], shown.classes)
    if select is not None:
        kept["selection"] = parse_selection(select)
    if view is not None:
        kept["viewport"] = parse_viewport(view)
    if k is not None:
        kept["k"] = parse_k(k) or DEFAULT_K
    if colour is not None:
        kept["colour"] = map_colour.parse(colour, list(colours)) or map_colour.CLASS
    if contours is not None:
        kept["contours"] = contours if contours in map_colour.CONTOURS else "off"
    if every is not None:
        kept["every"] = every == "all"
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


def parse_k(text: str) -> int | None:
    """The URL's ``k`` (or the widget's value) -> a neighbour count in 1..``MAX_K``; None when it is not one."""
    return int(text) if re.fullmatch(r"[0-9]{1,2}", text) and 1 <= int(text) <= MAX_K else None


def parse_index(text: str, total: int, train_from: int | None = None) -> int | str:
    """The search box's text -> a map row in [0, total), or the one line that says why it is not one. A number is a
    test index; with ``train_from`` (the map shows the training digits from that row on), "train N" is training
    digit N, row ``train_from`` + N."""
    text = text.strip().removeprefix("#").strip()
    train = train_from is not None and text.lower().startswith("train")
    number = text[5:].strip().removeprefix("#").strip() if train else text
    first, end = (train_from, total) if train else (0, train_from or total)
    what, also = ("training digit", "") if train else ("test digit", " or “train N”" if train_from else "")
    if not re.fullmatch(r"[0-9]{1,9}", number):
        return f"“{text[:20]}” is not a test index: type a whole number from 0 to {end - 1:,}{also}."
    if int(number) >= end - first:
        set_name = "training set" if train else "test set"
        return f"There is no {what} #{int(number):,}: the {set_name} runs from 0 to {end - first - 1:,}."
    return first + int(number)
