"""The replay as one plotly figure that plays in the browser: the map, the samples and the loss at every epoch.

Every epoch is a plotly frame, so Play, Pause and the epoch slider run in the page: nothing goes
back to the server while it plays (a server-driven player would grey the section out at every
tick while its rerun is in flight). Top left: the replay's test subset on axes fixed over all
epochs; top right: the 64 fixed prior draws decoded; below: the train and test loss with a marker
at the epoch shown. It opens on the trained model (the last epoch).
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.shell.charts import DIGIT_COLORS, FONT
from vae_core.exports import grid_png
from vae_core.replay_figure import caption

FRAME_MS = 700  # one epoch per 0.7 s while playing
DECIMALS = 3  # of the map's coordinates: the figure ships every epoch's points at once


def _grid_source(grid: np.ndarray) -> str:
    """grid [64, S, S] (or RGB [64, S, S, 3]) uint8 -> a PNG data URI of the 8 x 8 tiling at twice its size."""
    return "data:image/png;base64," + base64.b64encode(grid_png(grid / 255.0, 8, 2)).decode()


def _epoch_data(coords: np.ndarray, labels: np.ndarray, grid: np.ndarray, loss: float | None, epoch: int) -> list:
    """The traces that change with the epoch: ten classes' points [M_k, 2], the grid, the loss marker."""
    points = [go.Scattergl(x=np.round(coords[labels == k, 0], DECIMALS), y=np.round(coords[labels == k, 1], DECIMALS))
              for k in range(len(DIGIT_COLORS))]
    marker = go.Scatter(x=[epoch] if loss is not None else [], y=[loss] if loss is not None else [])
    return [*points, go.Image(source=_grid_source(grid)), marker]


def replay_figure(replay, coords: np.ndarray, ranges, history: list[dict], names: tuple[str, ...],
                  map_title: str) -> go.Figure:
    """coords [E+1, M, 2] aligned over the epochs of ``replay`` (``vae_core.replay``), on fixed ``ranges``."""
    last = replay.last_epoch
    test_loss = {row["epoch"]: row["test_loss"] for row in history}
    figure = make_subplots(rows=2, cols=2, column_widths=[0.58, 0.42], row_heights=[0.74, 0.26],
                           specs=[[{}, {}], [{"colspan": 2}, None]], vertical_spacing=0.16, horizontal_spacing=0.06,
                           subplot_titles=(map_title, "64 fixed draws of the prior, decoded", ""))
    first = _epoch_data(coords[last], replay.labels, replay.grids[last], test_loss.get(last), last)
    for k, (trace, name, color) in enumerate(zip(first[:10], names, DIGIT_COLORS, strict=True)):
        trace.update(mode="markers", name=name, marker={"color": color, "size": 4}, hoverinfo="name",
                     legendgroup=str(k))
        figure.add_trace(trace, row=1, col=1)
    figure.add_trace(first[10].update(hoverinfo="skip"), row=1, col=2)
    epochs = [row["epoch"] for row in history]
    for key, name, dash in (("train_loss", "train loss", "dot"), ("test_loss", "test loss", "solid")):
        figure.add_scatter(x=epochs, y=[row[key] for row in history], name=name, mode="lines", row=2, col=1,
                           line={"color": "#555555", "dash": dash}, showlegend=False, hoverinfo="x+y+name")
    figure.add_trace(first[11].update(mode="markers", name="epoch shown", showlegend=False,
                                      marker={"color": "#d62728", "size": 11}), row=2, col=1)
    moving = [*range(11), 13]  # the ten classes (0-9), the grid (10) and the loss marker (13); 11, 12: loss lines
    figure.frames = [go.Frame(name=str(epoch), traces=moving, layout={"title": {"text": caption(epoch, last, history)}},
                              data=_epoch_data(coords[epoch], replay.labels, replay.grids[epoch],
                                               test_loss.get(epoch), epoch))
                     for epoch in range(last + 1)]
    _controls(figure, last, history)
    figure.update_xaxes(range=list(ranges[0]), showticklabels=replay.latent_axes, zeroline=False, row=1, col=1)
    figure.update_yaxes(range=list(ranges[1]), showticklabels=replay.latent_axes, zeroline=False, row=1, col=1,
                        scaleanchor="x", scaleratio=1)
    figure.update_xaxes(visible=False, row=1, col=2)
    figure.update_yaxes(visible=False, row=1, col=2)
    figure.update_xaxes(range=[-0.4, last + 0.4], dtick=max(1, last // 12), row=2, col=1)
    figure.update_yaxes(title="nats: test —, train ···", row=2, col=1)
    return figure


def _controls(figure: go.Figure, last: int, history: list[dict]) -> None:
    """Play and Pause, and the epoch slider, all run by plotly in the page; it opens on the last epoch."""
    play = {"frame": {"duration": FRAME_MS, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate"}
    still = {"frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate"}
    figure.update_layout(
        height=760, font=FONT, title={"text": caption(last, last, history)}, uirevision="replay",
        margin={"l": 60, "r": 10, "t": 80, "b": 90},
        legend={"orientation": "h", "y": 0.245, "yanchor": "bottom", "itemsizing": "constant"},
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0, "y": -0.09, "xanchor": "left", "yanchor": "top",
                      "showactive": False, "pad": {"t": 0, "r": 10},
                      "buttons": [{"label": "▶ Play", "method": "animate",  # from the initialisation
                                   "args": [[str(epoch) for epoch in range(last + 1)], play]},
                                  {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]}]}],
        sliders=[{"active": last, "x": 0.2, "len": 0.8, "y": -0.07, "yanchor": "top", "pad": {"t": 0},
                  "currentvalue": {"visible": False},  # the title names the epoch
                  "steps": [{"label": str(epoch), "method": "animate", "args": [[str(epoch)], still]}
                            for epoch in range(last + 1)]}])
