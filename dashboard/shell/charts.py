"""Plotly figure builders: one colour per digit everywhere, titles and axes with units.

Figures are built from plain arrays and returned; callers may cache them and must not
mutate them.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

TRAIN_DASH, TEST_DASH = "dot", "solid"
SEED_COLOR = "#888888"
FONT = {"size": 14}
LATENT_COORDINATES = "Latent coordinates"  # z = 2: the means drawn as they are, no projection
NEIGHBOUR_MAPS = ("t-SNE", "UMAP")  # nonlinear maps that keep neighbours, cached by `vae-explorer project`

# y-axis title and tick format of each plotted metric (paths of vae_core.evaluate.SUMMARY_METRICS)
AXES = {
    "nll_iw": ("nats per image", None),
    "elbo.loss": ("nats per image", None),
    "elbo.recon": ("nats per image", None),
    "elbo.kl": ("nats per image", None),
    "active_units": ("dimensions", "d"),
    "samples.frechet_distance": ("classifier features", None),
    "samples.mean_top_probability": ("mean top probability", ".0%"),
    "samples.class_entropy": ("nats", None),
    "reconstructions.classifier_accuracy": ("accuracy", ".1%"),
    "memorisation.ratio_to_recon": ("samples / reconstructions", None),
    "linear_probe.test_accuracy": ("test accuracy", ".0%"),
}

# Ten qualitative colours (matplotlib's tab10): digit k is DIGIT_COLORS[k] on every page.
DIGIT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def chart_metrics() -> list[tuple[str, str, str]]:
    """(metrics.json path, label, what a better value is) of every metric plotted against latent size."""
    from vae_core import evaluate

    return list(evaluate.SUMMARY_METRICS)


def metric_points(checkpoints, metrics_of, label_of, x_of=None) -> tuple[list[tuple[object, str, dict]], list[str]]:
    """([(x, model label, metrics)] of the evaluated models in their given order, labels of the others).

    ``metrics_of(checkpoint)`` returns the parsed metrics.json or None; ``label_of`` names a model;
    ``x_of`` gives its place on the x axis (default: the latent size).
    """
    x_of = x_of or (lambda c: c.model_config.latent_dim)
    points, missing = [], []
    for checkpoint in checkpoints:
        metrics = metrics_of(checkpoint)
        if metrics:
            points.append((x_of(checkpoint), label_of(checkpoint), metrics))
        else:
            missing.append(label_of(checkpoint))
    return points, missing


def _reference_line(path: str, xs: list, latent_axis: bool) -> tuple[list, list, str] | None:
    """(x, y, name) of the value a metric is judged against, drawn dashed."""
    if path == "samples.class_entropy":
        return [xs[0], xs[-1]], [math.log(10)] * 2, "even coverage (log 10)"
    if path == "active_units" and latent_axis:
        return xs, xs, "all dimensions"
    if path == "memorisation.ratio_to_recon":
        return [xs[0], xs[-1]], [1.0, 1.0], "no copying (1)"
    return None


def metric_figure(points: list[tuple[object, str, dict]], path: str, label: str, height: int = 260,
                  axis_title: str = "latent size"):
    """A small line + marker chart of one metric against the compared setting.

    Numbers (latent size, beta) go on a log axis with one tick per value; names (architecture,
    data set) on a category axis in the given order.
    """
    import plotly.graph_objects as go

    from vae_core import evaluate

    kept = [(x, name, evaluate.metric_value(metrics, path)) for x, name, metrics in points]
    kept = [(x, name, value) for x, name, value in kept if value is not None]
    numeric = all(isinstance(x, (int, float)) for x, _, _ in kept)
    xs = sorted({x for x, _, _ in kept}) if numeric else list(dict.fromkeys(x for x, _, _ in kept))
    y_title, tick_format = AXES.get(path, ("", None))
    figure = go.Figure()
    reference = _reference_line(path, xs, axis_title == "latent size") if xs else None
    if reference is not None:
        figure.add_scatter(x=reference[0], y=reference[1], name=reference[2], mode="lines",
                           line={"color": "#999999", "dash": "dash", "width": 1}, hoverinfo="name")
    figure.add_scatter(x=[x for x, _, _ in kept], y=[v for _, _, v in kept], customdata=[n for _, n, _ in kept],
                       mode="lines+markers" if numeric else "markers", name=label, line={"color": "#1f77b4"},
                       marker={"size": 9}, hovertemplate="%{customdata}: %{y:.4g}<extra></extra>")
    figure.update_layout(title={"text": label, "font": {"size": 15}}, height=height, showlegend=False,
                         margin={"l": 55, "r": 15, "t": 40, "b": 45}, font={"size": 12})
    if numeric:
        figure.update_xaxes(type="log", tickvals=xs, ticktext=[f"{x:g}" for x in xs], title=axis_title)
    else:
        figure.update_xaxes(type="category", title=axis_title)
    figure.update_yaxes(title=y_title, tickformat=tick_format)
    return figure


def digit_legend_html(names: tuple[str, ...] | None = None) -> str:
    """One line of coloured class labels (digits, or ``names`` such as Fashion-MNIST's), a shared legend
    for small maps drawn without their own."""
    names = names or tuple(str(k) for k in range(10))
    # The colour is a dot beside each name, the name itself in the text colour: half of tab10 is under
    # the 4.5:1 that text needs on white (WCAG AA), but a dot matches the map's points as they are.
    dot = ("display:inline-block;width:0.75em;height:0.75em;border-radius:50%;"
           "margin-right:0.3em;vertical-align:-0.05em;background:")
    chips = "".join(f'<span style="font-weight:700;margin-right:0.9em;white-space:nowrap">'
                    f'<span aria-hidden="true" style="{dot}{color}"></span>{name}</span>'
                    for name, color in zip(names, DIGIT_COLORS, strict=True))
    title = "Digit colours" if names[0] == "0" else "Class colours"
    return f'<div style="font-size:0.95em">{title}: {chips}</div>'


def latent_size_colors(count: int) -> list[str]:
    """Ordered colours for latent sizes, small to large (a perceptually uniform scale)."""
    from plotly.colors import sample_colorscale

    return sample_colorscale("Viridis", [0.5] if count == 1 else list(np.linspace(0.0, 0.85, count)))


def _layout(figure: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    figure.update_layout(title={"text": title}, xaxis_title=x, yaxis_title=y, height=height,
                         font=FONT, margin={"l": 60, "r": 20, "t": 60, "b": 50},
                         legend={"orientation": "h", "y": -0.2})
    return figure


def loss_curves(history: list[dict], title: str) -> go.Figure:
    """Our train and test negative ELBO per epoch (nats per image)."""
    epochs = [row["epoch"] for row in history]
    figure = go.Figure()
    figure.add_scatter(x=epochs, y=[r["train_loss"] for r in history], name="our train loss",
                       mode="lines+markers", line={"dash": TRAIN_DASH, "color": "#1f77b4"})
    figure.add_scatter(x=epochs, y=[r["test_loss"] for r in history], name="our test loss",
                       mode="lines+markers", line={"dash": TEST_DASH, "color": "#1f77b4"})
    return _layout(figure, title, "epoch", "loss per image (nats)")


def seed_report_curve(seed_report: tuple, height: int = 300) -> go.Figure:
    """The seed report's printed loss per epoch on an axis of its own: its scale is not stated,
    so it is never drawn on our nats axis."""
    figure = go.Figure()
    figure.add_scatter(x=list(range(1, len(seed_report) + 1)), y=list(seed_report), name="seed report",
                       mode="lines+markers", line={"color": SEED_COLOR, "dash": "dash"}, marker={"symbol": "x"})
    _layout(figure, "The seed report's loss, as printed", "epoch", "loss (report's units, not stated)", height)
    figure.update_layout(showlegend=False)
    return figure


def loss_split(history: list[dict], title: str, height: int = 380) -> go.Figure:
    """The two terms of the loss per epoch, train and test: reconstruction above, KL below.

    Each term has its own panel and both axes start at 0: the KL moves by a few tenths of a
    nat between epochs, which a zoomed axis would draw as jumps, and on the reconstruction's
    axis it would be a flat line at the bottom.
    """
    from plotly.subplots import make_subplots

    epochs = [row["epoch"] for row in history]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.6, 0.4])
    for row, (term, color, label) in enumerate((("recon", "#2ca02c", "reconstruction"), ("kl", "#d62728", "KL")), 1):
        for split, dash in (("train", TRAIN_DASH), ("test", TEST_DASH)):
            figure.add_scatter(x=epochs, y=[r[f"{split}_{term}"] for r in history], row=row, col=1,
                               name=f"{split} {label}", mode="lines+markers", line={"color": color, "dash": dash})
    _layout(figure, title, "", "", height)
    figure.update_yaxes(rangemode="tozero")
    # The green title is darker than its line (#2ca02c is 3.4:1 on white): text needs 4.5:1 (WCAG AA).
    figure.update_yaxes(title={"text": "recon (nats)", "font": {"color": "#1e7b1e"}}, row=1, col=1)
    figure.update_yaxes(title={"text": "KL (nats)", "font": {"color": "#d62728"}}, row=2, col=1)
    figure.update_xaxes(title="epoch", row=2, col=1)
    return figure


def overlaid_losses(series: list[tuple[str, list[dict]]], key: str, title: str,
                    y_title: str = "loss per image (nats)") -> go.Figure:
    """One curve per model (label, history) for the history column ``key``."""
    figure = go.Figure()
    for (label, history), color in zip(series, latent_size_colors(len(series)), strict=True):
        figure.add_scatter(x=[r["epoch"] for r in history], y=[r[key] for r in history], name=label,
                           mode="lines+markers", line={"color": color})
    return _layout(figure, title, "epoch", y_title)


def map_methods(latent_dim: int) -> list[str]:
    """The projections offered for a model: a 2-D latent space needs none, so it offers its own axes."""
    return [LATENT_COORDINATES if latent_dim == 2 else "PCA", *NEIGHBOUR_MAPS]


def map_cached(arrays: dict, method: str) -> bool:
    """Whether the projections hold ``method``'s map: t-SNE and UMAP follow a new model's quick maps, and
    UMAP is absent from files cached before it existed."""
    return {"UMAP": "umap", "t-SNE": "tsne"}.get(method, "pca") in arrays


def _latent_axes(method: str, latent_dim: int) -> bool:
    """A 2-D latent space drawn as it is, in place of a linear projection (t-SNE and UMAP still map it)."""
    return method not in NEIGHBOUR_MAPS and latent_dim == 2


def map_axes(arrays: dict, method: str, latent_dim: int) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(coordinates [M, 2], test rows [M], x title, y title) of one cached projection."""
    if method == "t-SNE":
        return arrays["tsne"], arrays["tsne_index"], "t-SNE 1", "t-SNE 2"
    if method == "UMAP":
        return arrays["umap"], np.arange(len(arrays["umap"])), "UMAP 1", "UMAP 2"
    index = np.arange(len(arrays["pca"]))
    if latent_dim == 2:  # PCA of a 2-D space would only rotate it: show the latent axes themselves
        return np.asarray(arrays["mu"], dtype=np.float32), index, "z[0] (posterior mean)", "z[1] (posterior mean)"
    share = arrays["pca_explained"]
    return arrays["pca"], index, f"PC 1 ({share[0]:.0%} of variance)", f"PC 2 ({share[1]:.0%} of variance)"


def map_title(method: str, latent_dim: int, every: bool = False) -> str:
    """The map's title; ``every``: the training digits are drawn too."""
    means = "Test and training means" if every else "Test-set means"
    if _latent_axes(method, latent_dim):
        return f"{means} in the 2-D latent space (no projection needed)"
    return f"{method} of the {means[:1].lower()}{means[1:]} (z = {latent_dim})"


def job_curves(history: list[dict], epochs: int, height: int = 260) -> go.Figure:
    """A training job's train and test loss per completed epoch, on an x axis already as long as the run.

    The fixed axis lets the curve grow to the right as epochs finish, instead of rescaling each time.
    """
    figure = loss_curves(history, "")
    figure.update_traces(selector={"name": "our train loss"}, name="train loss")
    figure.update_traces(selector={"name": "our test loss"}, name="test loss")
    figure.update_xaxes(range=[0.5, epochs + 0.5], dtick=max(1, epochs // 12))
    figure.update_layout(height=height, margin={"l": 60, "r": 20, "t": 20, "b": 40},
                         legend={"orientation": "h", "y": 1.12, "x": 0})
    return figure
