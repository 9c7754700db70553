"""Shareable links: what Streamlit cannot bind to a widget, written into the URL by hand.

The page is the URL's path (``st.navigation``'s url_path). Every widget of a view is bound to
the URL by Streamlit (``bind="query-params"``, the key is the parameter's name), which ignores
a value its widget does not offer. This module keeps the rest: the model (``model``, whose
picker depends on the data set), what the live explorer reports (its slider values ``z``
and a whole start point ``at``) and what the Latent map reports (its legend ``hide``, its
selection ``select``, its zoom ``view``, its neighbour count ``k``, its colouring ``color`` and its density lines
``contours``: ``dashboard.latent_map.state``). Every value read
here is checked against what the app offers (a model the sidebar lists, finite numbers within
range); anything else is ignored and the default stays (fault-matrix row 17). Nothing read from
the URL is ever used as a path.

The app writes the parameters as the reader changes the view. On a page's first run after
another page (a fresh link, a link in the app, Back or Forward: ``on_page``) every parameter is
a request; later, a parameter counts as one only when it differs from every value this session
wrote for it. Each rerun takes its query string from the browser, and a rerun asked for before
the browser applied the last write carries an older value of ours; read as a request, that echo
would move the sliders back.

A link to another page (``explorer_link``) is Streamlit's page link with the view in its address: the
browser's history gains one entry, as for a link in the sidebar (``st.switch_page`` with
parameters added further entries that Back stepped through).
"""

from __future__ import annotations

import math
import re

import streamlit as st

from dashboard.shell import points, view

PUBLISHED_KEY = "links_published"  # {name: [values this session wrote into the URL, oldest first]}
PAGE_KEY = "links_page"  # the url_path of the page this session's last run showed
PUBLISHED_KEPT = 64  # per name; an echo older than that is read as a request
MAX_LENGTH = 4000  # longer values are not parsed (50 slider values need about 600 characters)
# Parameters besides "model", by page url_path; the router drops the other pages' parameters.
# The rest of every view is bound to its widgets by Streamlit.
PAGE_PARAMS = {"explorer": ("at", "z"), "latent-map": ("hide", "select", "view", "k", "color", "contours", "points")}
GLOBAL_PARAMS = ("model",)


def requested(name: str) -> str | None:
    """The URL's value of ``name`` when this session did not write it (a link someone opened), else None."""
    value = st.query_params.get(name)
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        return None
    if value in st.session_state.get(PUBLISHED_KEY, {}).get(name, ()):
        return None
    return value


def share(**values: str | None) -> None:
    """Write these parameters into the URL (None removes one); only the ones that changed are sent."""
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
            continue
        if st.query_params.get(name) != value:
            st.query_params[name] = value
        shown(name, value)


def shown(name: str, value: str) -> None:
    """Remember that this session showed ``value`` for ``name`` (written by us, or by a widget bound to it):
    the address carrying it later is an echo, not a request."""
    published = st.session_state.setdefault(PUBLISHED_KEY, {})
    written = published.setdefault(name, [])
    if value in written:
        written.remove(value)
    written.append(value)
    del written[:-PUBLISHED_KEPT]


def on_page(url_path: str) -> None:
    """At the start of a run: the first run of a page after another one reads its address as a link's (every
    value a request: the link followed, or the entry Back or Forward went to)."""
    if st.session_state.get(PAGE_KEY) != url_path:
        st.session_state[PAGE_KEY] = url_path
        st.session_state.pop(PUBLISHED_KEY, None)


def explorer_link(label: str, help_text: str, **values: str) -> None:
    """A link that opens the Latent explorer with these parameters in its address, and the data set and model this
    address names (opened in a new tab, it shows the same model): one entry in the browser's history."""
    model = {name: st.query_params[name] for name in ("dataset", *GLOBAL_PARAMS) if name in st.query_params}
    st.page_link("explorer/page.py", label=label, icon=":material/tune:", help=help_text,
                 query_params={**model, **values})


def open_model(page: str, name: str, dataset: str) -> None:
    """Switch to ``page`` showing the model ``name`` of ``dataset`` (the Train page's "Open in the explorer").

    The sidebar's pickers are bound to the URL, so the model cannot travel as a parameter: the
    pickers take it from ``view``'s pending values at the start of the next run, before they are drawn.
    """
    st.session_state.setdefault(view.PENDING_KEY, {}).update({"dataset": dataset, "model": name})
    st.switch_page(page)


def keep_only(url_path: str) -> None:
    """Drop the parameters we write for other pages (they would describe a view this page does not have).

    Parameters bound to widgets are Streamlit's: it drops those of a page that is no longer shown.
    """
    ours = set().union(*PAGE_PARAMS.values())
    mine = set(GLOBAL_PARAMS) | set(PAGE_PARAMS.get(url_path, ()))
    for name in [n for n in st.query_params if n in ours - mine]:
        del st.query_params[name]


def requested_point(name: str, length: int, bound: float) -> list[float] | None:
    """``length`` comma-separated finite numbers within +-``bound`` requested for ``name``, else None."""
    value = requested(name)
    if value is None:
        return None
    numbers = [_number(part) for part in value.split(",")]
    if len(numbers) != length or any(n is None or abs(n) > bound for n in numbers):
        return None
    return numbers


def requested_values(name: str, dims: int) -> dict[int, float] | None:
    """'dim:value,...' requested for ``name`` -> {dim: value} with 0 <= dim < ``dims``; None when any part is bad."""
    value = requested(name)
    if value is None:
        return None
    out = {}
    for part in value.split(","):
        dim, _, number = part.partition(":")
        parsed = _number(number)
        if not re.fullmatch(r"[0-9]{1,4}", dim) or int(dim) >= dims or parsed is None:
            return None
        out[int(dim)] = parsed
    return out


def point_text(values) -> str:
    """A point [D] as the URL spells it: comma-separated, 4 decimals."""
    return ",".join(f"{float(v):.4f}".rstrip("0").rstrip(".") for v in values)


def values_text(values: dict[int, float]) -> str:
    """{dim: value} as the URL spells it: 'dim:value' pairs, comma-separated."""
    return ",".join(f"{dim}:{float(value):.2f}" for dim, value in values.items())


def numbers(text: str) -> list[float] | None:
    """Comma-separated finite numbers (as ``point_text`` writes them) -> floats; None when any part is not one."""
    parsed = [_number(part) for part in text.split(",")]
    return None if any(n is None for n in parsed) else parsed


def _number(text: str) -> float | None:
    if not re.fullmatch(r"-?[0-9]{1,6}(\.[0-9]{1,8})?", text.strip()):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


# --- the Latent explorer's start point given as a whole vector (Your digit's "Explore from here") ---

def requested_start(latent_dim: int) -> list[float] | None:
    """A link's whole start point [D] ("at"), finite and within twice the sliders' range, else None."""
    return requested_point("at", latent_dim, 2 * max(abs(v) for v in points.SLIDER_RANGE))


def share_explorer(mode: str, own) -> None:
    """Write the whole start point into the URL when it is the reader's own digit (Streamlit binds the rest)."""
    share(at=point_text(own) if mode == points.OWN_DIGIT and own is not None else None)
