"""The training replay's pictures, shared by the Training page and the Train page's job cards.

``replay_map`` draws one epoch of a replay (``vae_core.replay``) as a plotly scatter on axes fixed
over every epoch, coloured as every other map of the app. ``job_replay_map`` draws what a job in
training has recorded so far from its growing ``replay.npz``: the latest epoch, on axes that hold
every epoch so far, so the map can be watched forming.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard.shell.charts import DIGIT_COLORS, FONT


def map_title(latent_dim: int) -> str:
    """What the replay's map shows: the latent means themselves at z = 2, else an aligned PCA."""
    if latent_dim == 2:
        return "Test means in the 2-D latent space"
    return f"PCA of the z = {latent_dim} test means, aligned on the last epoch"


def replay_map(points: np.ndarray, labels: np.ndarray, ranges, names: tuple[str, ...], title: str = "",
               height: int = 460, legend: bool = True, latent_axes: bool = False) -> go.Figure:
    """points [M, 2] of one epoch, labels [M], on fixed ``ranges`` ((x0, x1), (y0, y1)) with equal units."""
    figure = go.Figure()
    for k, (name, color) in enumerate(zip(names, DIGIT_COLORS, strict=True)):
        rows = np.flatnonzero(labels == k)
        figure.add_scattergl(x=points[rows, 0], y=points[rows, 1], mode="markers", name=name,
                             marker={"color": color, "size": 4}, hoverinfo="name")
    x_title, y_title = ("z[0] (posterior mean)", "z[1] (posterior mean)") if latent_axes else ("", "")
    figure.update_layout(title={"text": title} if title else None, height=height, font=FONT, showlegend=legend,
                         margin={"l": 50, "r": 10, "t": 40 if title else 10, "b": 40},
                         legend={"orientation": "h", "y": -0.12, "itemsizing": "constant"}, uirevision="replay")
    figure.update_xaxes(range=list(ranges[0]), title=x_title, showticklabels=latent_axes, zeroline=False)
    figure.update_yaxes(range=list(ranges[1]), title=y_title, showticklabels=latent_axes, zeroline=False,
                        scaleanchor="x", scaleratio=1)
    return figure


def job_replay_map(path: str | Path, latent_dim: int, names: tuple[str, ...] | None = None,
                   height: int = 260) -> go.Figure | None:
    """A compact map of the epochs a running job recorded in ``path`` (its growing replay.npz, or the folder
    holding it); None while nothing is recorded or when the file cannot be read (the card then shows no map).

    Built once per version of the file (its modification time is part of the key), so a card that polls
    every second reads the file again only after an epoch was recorded. The figure is shared: do not mutate it.
    """
    from vae_core.replay import REPLAY_FILE

    file = Path(path)
    file = file if file.suffix == ".npz" else file / REPLAY_FILE
    try:
        stamp = file.stat().st_mtime_ns
    except OSError:
        return None
    return _job_replay_map(str(file), stamp, latent_dim, names, height)


@st.cache_resource(max_entries=16, show_spinner=False)
def _job_replay_map(file: str, stamp: int, latent_dim: int, names: tuple[str, ...] | None,
                    height: int) -> go.Figure | None:
    from vae_core.replay import aligned, fixed_range, load_replay
    from vae_core.store import CheckpointError

    try:
        replay = load_replay(file, latent_dim=latent_dim)
    except CheckpointError:
        return None
    if replay is None:
        return None
    coords = aligned(replay)
    names = names or tuple(str(k) for k in range(10))
    figure = replay_map(coords[-1], replay.labels, fixed_range(coords), names, height=height, legend=False,
                        latent_axes=replay.latent_axes)
    figure.update_layout(title={"text": f"epoch {replay.last_epoch}", "font": {"size": 13}},
                         margin={"l": 10, "r": 10, "t": 30, "b": 10})
    figure.update_xaxes(title="", showticklabels=False)
    figure.update_yaxes(title="", showticklabels=False)
    return figure
