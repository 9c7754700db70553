"""Compare's sections that are more than a layout: the test splits, the live walk through every model, the metric
charts."""

from __future__ import annotations

import streamlit as st

from dashboard.compare import axes, state
from dashboard.components import live_decoder
from dashboard.shell import cache, captions, charts, downloads, payloads, points


def compare_test_splits(models: list) -> dict:
    """{data set: its test split, or None when the images are not in VAE_DATA_DIR} for the models shown."""
    return {dataset: cache.test_split(dataset)[0]
            for dataset in dict.fromkeys(c.train_config.dataset for c in models)}


@st.fragment
def latent_walk(models: list, label_of, splits: dict, total: int) -> None:
    """Compare's live walk: pick a line (two test images, or a random direction), every model decodes it in the page.

    A fragment: its controls and the position it reports rerun only the walk, not the whole page.
    """
    walk = state.walk_controls(total, axes.image_noun(models), axes.image_noun(models, plural=True))
    if walk.between:
        first, last = walk.ends
        lines = {c.name: points.test_means(cache.model_for(c), splits[c.train_config.dataset],
                                           cache.projections_for(c), [first, last]) for c in models}
        arrays, split = cache.projections_for(models[0]), splits[models[0].train_config.dataset]
        note = captions.walk_between_note(first, last, points.test_label(split, arrays, first),
                                          points.test_label(split, arrays, last), models[0].train_config.dataset)
    else:
        lines = {c.name: points.direction_line(c.model_config.latent_dim, walk.seed) for c in models}
        note = captions.walk_direction_note(walk.seed, points.WALK_RADIUS)
    live_decoder.send_weights("compare_walk_weights", {c.name: payloads.decoder_weights_for(c) for c in models})
    walks = [{"model": c.name, "label": label_of(c), "start": lines[c.name][0].tolist(),
              "end": lines[c.name][1].tolist()} for c in models]
    note += server_walks(models, walks, live_decoder.walk_position("compare_walk"))
    live_decoder.walk("compare_walk", walks, repr((walk.kind, walk.detail, [c.name for c in models])), note)
    downloads.walk(f"compare-walk-{'-'.join(map(str, walk.detail))}", [cache.model_for(c) for c in models],
                   [label_of(c) for c in models], [lines[c.name] for c in models])


def server_walks(models: list, walks: list[dict], t: float) -> str:
    """Give each walk whose decoder the page cannot run the server's digit at ``t`` ("grey"); the line saying so."""
    served = []
    for checkpoint, line in zip(models, walks, strict=True):
        start, end = line["start"], line["end"]
        digit = payloads.server_digit(checkpoint, [a + (b - a) * t for a, b in zip(start, end, strict=True)])
        if digit is not None:
            line["grey"] = digit.grey
            served.append(line["label"])
    if not served:
        return ""
    return (f" {', '.join(served)}: decoded on the server at the position last reported (on release), not as you "
            "drag: the page cannot run that decoder.")


@st.cache_resource(max_entries=8, hash_funcs=cache.HASH_FUNCS)
def metric_figures(checkpoints: list, labels: tuple[str, ...], axis: str = "latent size") -> list:
    """[(label, what better means, shared plotly Figure)] of every metric against ``axis`` (see ``axes``)."""
    names = dict(zip((str(c.path) for c in checkpoints), labels, strict=True))
    evaluated, _ = charts.metric_points(checkpoints, cache.metrics_for, lambda c: names[str(c.path)],
                                        lambda c: axes.chart_x(c, axis))
    return [(label, meaning, charts.metric_figure(evaluated, path, label, axis_title=axis))
            for path, label, meaning in charts.chart_metrics()]
