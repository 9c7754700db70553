"""Compare's controls: the axis and the held settings, and the live walk through every model shown."""

from __future__ import annotations

import streamlit as st

from dashboard.compare import axes
from dashboard.shell import cache, captions, charts, points, sidebar, view

AXIS_SHOWN_KEY = "compare_axis_shown"  # the axis the held settings were last chosen for


def compare_axis(ctx) -> tuple[str, dict, list]:
    """Compare's first rows: the axis to vary and the settings held fixed -> (axis, held, checkpoints shown).

    When the axis changes, the held settings move to the ones that show the most columns
    (ties: the sidebar model's), so the default view is today's: the latent sizes of the
    chosen model's architecture, beta and data set. Epochs, hidden width and seed get a picker
    of their own (a second row) only when the models differ in them.
    """
    pool = ctx.everything or ctx.checkpoints
    row = st.columns(len(axes.AXES))
    axis = row[0].radio("Compare along", axes.AXES, key="axis", bind="query-params")
    others = axes.held_settings(pool, axis)
    best = axes.best_held(pool, axis, ctx.checkpoint)
    keys = {other: f"hold_{other.replace(' ', '_')}" for other in others}  # widget keys and URL parameters
    if st.session_state.get(AXIS_SHOWN_KEY) not in (None, axis):  # the reader changed the axis
        for other in others:
            st.session_state[keys[other]] = best[other]
    st.session_state[AXIS_SHOWN_KEY] = axis
    extra = len(others) - (len(axes.AXES) - 1)
    places = row[1:] + (st.columns(len(axes.AXES))[1:1 + extra] if extra else [])
    held = {}
    for column, (other, key) in zip(places, keys.items(), strict=True):
        options = axes.options(pool, other)
        view.keep_valid(key, options, best[other])
        # the best setting is the widget's default, so the URL names a held setting only when it differs
        held[other] = column.selectbox(f"Hold {other} at", options, index=options.index(best[other]), key=key,
                                       format_func=lambda v, other=other: axes.value_label(other, v),
                                       bind="query-params")
    return axis, held, axes.columns(pool, axis, held)


def image_noun(models: list, plural: bool = False) -> str:
    """What the columns' images are: 'digit(s)' or 'item(s)' for one data set, 'image(s)' across several."""
    from vae_core.classes import noun

    datasets = {c.train_config.dataset for c in models}
    return noun(datasets.pop() if len(datasets) == 1 else "", plural)


def compare_test_splits(models: list) -> dict:
    """{data set: its test split, or None when the images are not in VAE_DATA_DIR} for the models shown."""

    return {dataset: cache.test_split(dataset)[0]
            for dataset in dict.fromkeys(c.train_config.dataset for c in models)}


@st.fragment
def latent_walk(models: list, label_of, splits: dict, total: int) -> None:
    """Compare's live walk: pick a line (two test images, or a random direction), every model decodes it in the page.

    A fragment: its controls and the position it reports rerun only the walk, not the whole page.

    """
    from dashboard.components import live_decoder

    kind_column, detail_column = st.columns([2, 3])
    kinds = list(points.WALKS) if total else list(points.WALKS[1:])
    view.keep_valid("walk", kinds)
    many = image_noun(models, plural=True)
    kind = kind_column.radio("Walk", kinds, horizontal=True, key="walk", bind="query-params",
                             format_func=lambda k: k.replace("test digits", f"test {many}"))
    if kind == points.WALKS[0]:
        ends = detail_column.columns(2)
        for key in ("walk_from", "walk_to"):
            sidebar.clamp_state(key, 0, total - 1)
        one = image_noun(models)
        first = ends[0].number_input(f"From test {one}", 0, total - 1, 0, key="walk_from", bind="query-params")
        last = ends[1].number_input(f"To test {one}", 0, total - 1, min(1, total - 1), key="walk_to",
                                         bind="query-params")
        lines = {c.name: points.test_means(cache.model_for(c), splits[c.train_config.dataset],
                                           cache.projections_for(c), [first, last]) for c in models}
        arrays, split = cache.projections_for(models[0]), splits[models[0].train_config.dataset]
        detail = (first, last)
        note = captions.walk_between_note(first, last, points.test_label(split, arrays, first),
                                          points.test_label(split, arrays, last), models[0].train_config.dataset)
    else:
        seed = int(detail_column.number_input("Direction seed", min_value=0, value=0, step=1, key="walk_seed",
                                                        bind="query-params"))
        lines = {c.name: points.direction_line(c.model_config.latent_dim, seed) for c in models}
        detail, note = (seed,), captions.walk_direction_note(seed, points.WALK_RADIUS)
    live_decoder.send_weights("compare_walk_weights", {c.name: cache.decoder_weights_for(c) for c in models})
    walks = [{"model": c.name, "label": label_of(c), "start": lines[c.name][0].tolist(),
              "end": lines[c.name][1].tolist()} for c in models]
    live_decoder.walk("compare_walk", walks, repr((kind, detail, [c.name for c in models])), note)
    from dashboard.shell import downloads

    downloads.walk(f"compare-walk-{'-'.join(map(str, detail))}", [cache.model_for(c) for c in models],
                   [label_of(c) for c in models], [lines[c.name] for c in models])


@st.cache_resource(max_entries=8, hash_funcs=cache.HASH_FUNCS)
def metric_figures(checkpoints: list, labels: tuple[str, ...], axis: str = "latent size") -> list:
    """[(label, what better means, shared plotly Figure)] of every metric against ``axis`` (see ``axes``)."""
    names = dict(zip((str(c.path) for c in checkpoints), labels, strict=True))
    evaluated, _ = charts.metric_points(checkpoints, cache.metrics_for, lambda c: names[str(c.path)],
                                        lambda c: axes.chart_x(c, axis))
    return [(label, meaning, charts.metric_figure(evaluated, path, label, axis_title=axis))
            for path, label, meaning in charts.chart_metrics()]
