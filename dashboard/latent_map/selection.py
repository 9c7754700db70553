"""A selection of any size beside the Latent map: its pages of digits, its class histogram and its mean digit.

The page shown is ephemeral UI state of one selection: kept in session state under the map's key
(so per model and projection), never in the URL, and back to page 1 whenever the selected rows change
(a new box, a class hidden in the legend), so a new selection always starts at its first digits.
"""

from __future__ import annotations

import hashlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard.shell import charts

PAGE_SIZE = 40  # selected digits drawn per page (4 per row)


def page_count(count: int) -> int:
    """Pages of ``PAGE_SIZE`` needed for ``count`` selected digits (at least one)."""
    return max(1, -(-count // PAGE_SIZE))


def page_rows(selected: list[int], page: int) -> list[int]:
    """The selected rows on ``page`` (1-based), in the selection's order."""
    return list(selected[(page - 1) * PAGE_SIZE:page * PAGE_SIZE])


def page_words(page: int, count: int, many: str = "digits") -> str:
    """Where ``page`` is in the selection: 'digits 41-80 of 2,713'."""
    first, last = (page - 1) * PAGE_SIZE + 1, min(page * PAGE_SIZE, count)
    return f"{many} {first:,}-{last:,} of {count:,}"


def page_key(map_key: str) -> str:
    """The page number's widget key, beside the map's own."""
    return f"{map_key}_page"


def current_page(key: str, selected: list[int]) -> int:
    """The page shown (1-based) of ``selected``: what the widget under ``key`` holds, back to 1 when the selected
    rows differ from the ones it was kept for. Call it before the widget is drawn."""
    digest = hashlib.blake2b(np.asarray(selected, dtype=np.int64).tobytes(), digest_size=8).hexdigest()
    if st.session_state.get(f"{key}_of") != digest:
        st.session_state[f"{key}_of"] = digest
        st.session_state[key] = 1
    page = st.session_state.get(key, 1)
    page = page if isinstance(page, int) else 1
    st.session_state[key] = min(max(page, 1), page_count(len(selected)))
    return st.session_state[key]


def turn(key: str, by: int, pages: int) -> None:
    """The previous / next buttons' callback: ``by`` pages on, within 1..``pages``."""
    st.session_state[key] = min(max(int(st.session_state.get(key, 1)) + by, 1), pages)


def pager(key: str, selected: list[int], many: str) -> int:
    """Previous / next buttons and the page number for ``selected``; the page shown (1-based)."""
    pages, page = page_count(len(selected)), current_page(key, selected)
    st.number_input(f"Page, of {pages:,}", 1, pages, step=1, key=key,
                    help=f"{PAGE_SIZE} selected {many} a page, in the order the map lists them")
    back, on = st.columns(2, gap="small")
    back.button("Previous", icon=":material/chevron_left:", key=f"{key}_back", disabled=page == 1,
                on_click=turn, args=(key, -1, pages), width="stretch", help=f"The previous {PAGE_SIZE} selected {many}")
    on.button("Next", icon=":material/chevron_right:", icon_position="right", key=f"{key}_next",
              disabled=page == pages, on_click=turn, args=(key, 1, pages), width="stretch",
              help=f"The next {PAGE_SIZE} selected {many}")
    return int(st.session_state[key])


def class_counts(labels: np.ndarray, rows: list[int], classes: int) -> np.ndarray:
    """How many of ``rows`` belong to each class [classes]."""
    return np.bincount(np.asarray(labels)[np.asarray(rows, dtype=np.int64)].astype(np.int64), minlength=classes)


def histogram(counts: np.ndarray, names: tuple[str, ...], many: str) -> go.Figure:
    """A small bar chart of the selection's classes, each bar in its class's colour on every page."""
    total = int(np.sum(counts))
    figure = go.Figure(go.Bar(x=list(names), y=[int(c) for c in counts], marker_color=list(charts.DIGIT_COLORS),
                              hovertemplate=f"%{{x}}: %{{y:,}} of {total:,}<extra></extra>"))
    figure.update_layout(title={"text": f"Classes of the {total:,} selected", "font": {"size": 14}}, height=210,
                         margin={"l": 45, "r": 8, "t": 36, "b": 30}, font={"size": 12}, showlegend=False,
                         bargap=0.15)
    figure.update_xaxes(type="category", tickangle=0)
    figure.update_yaxes(title=many, rangemode="tozero")
    return figure


def pixel_mean(test_images, rows: list[int]) -> np.ndarray:
    """The mean of the selected test images [N, C x S x S] (in [0, 1]), pixel by pixel: [S, S] or RGB [S, S, 3]."""
    from vae_core.shapes import as_pictures

    return as_pictures(np.asarray(test_images[list(rows)], dtype=np.float64).mean(axis=0)[None])[0]


def mean_of_means(mu: np.ndarray, rows: list[int]) -> np.ndarray:
    """The mean of the selected posterior means [D] (the cached float16 means, averaged in float64)."""
    return np.asarray(mu[list(rows)], dtype=np.float64).mean(axis=0)


def decoded_mean(model, mu: np.ndarray, rows: list[int]) -> np.ndarray:
    """The digit [28, 28] that ``model`` decodes from the mean of the selected posterior means."""
    import torch

    from vae_core import explore

    return explore.decode(model, torch.as_tensor(mean_of_means(mu, rows), dtype=torch.float32).reshape(1, -1))[0]
