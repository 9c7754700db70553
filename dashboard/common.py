"""The shared sidebar and the small Streamlit helpers every page uses.

The router (``app.py``) calls ``sidebar()`` once per run; it stores the chosen dataset and
model in session state (keys prefixed ``app_``), so the choice carries across pages.
Pages read it back with ``context()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import streamlit as st

from dashboard import cache, tables, views

CONTEXT_KEY = "app_context"
DATASET_KEY = "app_dataset"
MODEL_KEY = "app_model"


@dataclass(frozen=True)
class AppContext:
    """What the sidebar chose, for the pages of this run."""

    root: Path
    checkpoints: list = field(default_factory=list)  # of the chosen dataset, by latent size
    problems: list = field(default_factory=list)  # store.Problem: folders skipped
    dataset: str | None = None
    checkpoint: object | None = None  # store.Checkpoint, None when there is none
    error: str | None = None  # why the checkpoint directory could not be read at all

    def label(self, checkpoint) -> str:
        return tables.model_label(checkpoint, self.checkpoints)


def keep_choice(key: str, options: list) -> None:
    """A remembered choice that is no longer offered (options differ by model) falls back to the first option."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]


def sidebar() -> AppContext:
    """Dataset picker (only when several datasets have checkpoints) and model picker."""
    root, checkpoints, problems, error = cache.scan_checkpoints()
    if not checkpoints:
        st.sidebar.warning(f"No checkpoints in `{root}`.")
        context = AppContext(root=root, problems=problems, error=error)
    else:
        names = tables.datasets(checkpoints)
        keep_choice(DATASET_KEY, names)
        if len(names) > 1:
            st.sidebar.selectbox("Dataset", names, key=DATASET_KEY)
        dataset = st.session_state[DATASET_KEY]
        mine = [c for c in checkpoints if c.train_config.dataset == dataset]
        by_name = {c.name: c for c in mine}
        keep_choice(MODEL_KEY, list(by_name))
        st.sidebar.selectbox("Model (latent size)", list(by_name), key=MODEL_KEY,
                             format_func=lambda name: tables.model_label(by_name[name], mine),
                             help="Every page shows this model; Compare shows all of them.")
        context = AppContext(root, mine, problems, dataset, by_name[st.session_state[MODEL_KEY]])
        st.sidebar.caption(f"{len(checkpoints)} checkpoint(s) in `{root}`")
    if problems:
        st.sidebar.warning(f"{len(problems)} folder(s) in the checkpoint directory were skipped: see Overview.")
    st.session_state[CONTEXT_KEY] = context
    return context


def context() -> AppContext:
    return st.session_state[CONTEXT_KEY]


def how_to_train(root: Path, error: str | None = None) -> None:
    if error:
        st.error(error)
    st.info(
        f"There are no trained models in `{root}` yet. Train some with "
        f"`{views.TRAIN_HINT}` (MNIST is read from `VAE_DATA_DIR`), or set "
        "`VAE_CHECKPOINT_DIR` to a folder that holds checkpoints, then reload this page."
    )


def require_checkpoint() -> AppContext:
    """The context with a model chosen; otherwise explain how to train one and stop the page."""
    ctx = context()
    if ctx.checkpoint is None:
        how_to_train(ctx.root, ctx.error)
        st.stop()
    return ctx


def require_projections(ctx: AppContext) -> dict | None:
    """The cached projections of the chosen model, or None after saying how to compute them."""
    arrays = cache.projections_for(ctx.checkpoint)
    if arrays is None:
        st.info(f"No cached latent map for {ctx.label(ctx.checkpoint)}: compute it once with "
                f"`vae-explorer project` (needs the test images), then reload.")
    return arrays


def test_data(ctx: AppContext, what: str):
    """(split or None, projections or None); says in one sentence when the originals are missing."""
    split, reason = cache.test_split(ctx.dataset)
    arrays = cache.projections_for(ctx.checkpoint)
    if split is None:
        st.info(views.missing_data_sentence(reason, what))
    elif not views.split_matches(split, arrays):
        st.info(f"{what} are hidden: the test set in VAE_DATA_DIR has {len(split.labels)} images but this "
                f"model's cached means cover {len(arrays['mu'])}; point VAE_DATA_DIR at the data it was trained on.")
        split = None
    return split, arrays


def image(png: bytes, caption: str | None = None, width: int | str = "content") -> None:
    """A PNG at its own pixel size (already upscaled by nearest neighbour, so it stays crisp).

    ``output_format="PNG"`` matters: on "auto" Streamlit re-encodes grey images as JPEG.
    """
    st.image(png, caption=caption, width=width, output_format="PNG")


def sync_sliders(prefix: str, dims: list[int], base, signature: tuple) -> None:
    """Put the sliders of ``dims`` at the base point [D] when the base changes or a slider is new.

    Slider values live in session state under ``prefix + str(dim)``; they are only set here
    (and by the plane's click callback), never passed as ``value=``, so a moved slider keeps
    its value until the base point changes.
    """
    changed = st.session_state.get(prefix + "signature") != signature
    for dim in dims:
        key = f"{prefix}{dim}"
        if changed or key not in st.session_state:
            st.session_state[key] = views.clip_to_sliders(float(base[dim]))
    st.session_state[prefix + "signature"] = signature


def set_sliders_from_click(chart_key: str, prefix: str) -> None:
    """Callback of the clickable 2-D plane: move the two sliders to the clicked point."""
    point = views.clicked_point(st.session_state.get(chart_key))
    if point is not None:
        st.session_state[f"{prefix}0"] = views.clip_to_sliders(point[0])
        st.session_state[f"{prefix}1"] = views.clip_to_sliders(point[1])


def clamp_state(key: str, low: int, high: int) -> None:
    """Keep a remembered number inside the range of the model now chosen (sizes differ by model)."""
    value = st.session_state.get(key)
    if value is not None and not low <= value <= high:
        st.session_state[key] = min(high, max(low, value))


def start_controls(split, arrays, total: int, latent_dim: int) -> tuple[str, int, int, int]:
    """The explorer's first row: where the sliders start and how many are shown -> (mode, seed, index, shown).

    Only the controls the chosen start point needs get a column, so no empty column leaves a gap.
    """
    modes = list(views.BASE_MODES) if total else list(views.BASE_MODES[:2])
    keep_choice("explorer_base_mode", modes)
    mode = st.session_state["explorer_base_mode"]  # read before the radio: the layout depends on it
    needs_detail, needs_count = mode != views.BASE_MODES[0] or not total, latent_dim > 2
    widths = [3] + [2] * (needs_detail + needs_count)
    columns = iter(st.columns(widths + [7 - sum(widths)] if sum(widths) < 7 else widths))
    with next(columns):
        mode = st.radio("Start from", modes, horizontal=True, key="explorer_base_mode")
    seed, index = 0, 0
    if needs_detail:
        with next(columns):
            if mode == views.BASE_MODES[1]:
                seed = st.number_input("Prior draw seed", min_value=0, value=0, step=1, key="explorer_prior_seed")
            elif mode == views.BASE_MODES[2]:
                clamp_state("explorer_test_index", 0, total - 1)
                index = st.number_input(f"Test digit (0 to {total - 1})", min_value=0, max_value=total - 1, value=0,
                                        step=1, key="explorer_test_index")
                st.caption(f"Test image #{index} is a {views.test_label(split, arrays, index)}: "
                           "sliders start at its mean.")
            if not total:
                st.caption("Test digits as start points need cached means (`vae-explorer project`) or VAE_DATA_DIR.")
    shown = latent_dim
    if needs_count:
        with next(columns):
            shown = st.slider("Sliders shown (most informative first)", 1, latent_dim, min(latent_dim, 8),
                              key="explorer_slider_count")
    return mode, int(seed), int(index), int(shown)


def live_toggle(key: str, model) -> bool:
    """Decode in the browser (the live component) or through the server (st.slider); True when live."""
    from dashboard.components import live_decoder

    if not live_decoder.supports(model):
        return False
    return st.toggle("Live decoding in the browser", value=True, key=key,
                     help="On: the page decodes while you drag a slider or move over the plane, and the server "
                          "hears the value on release. Off: Streamlit sliders, each value decoded by the server.")


def plane_axes(order: list[int], scores, latent_dim: int) -> tuple[int, int]:
    """The two dimensions of the hover plane: z[0], z[1] for z = 2, else picked (most informative first)."""
    if latent_dim <= 2:
        return 0, 1
    name = partial(views.dim_label, scores=scores)
    left, right = st.columns(2)
    across = left.selectbox("Plane: horizontal dimension", order, index=0, key="explorer_plane_x", format_func=name)
    up = right.selectbox("Plane: vertical dimension", [d for d in order if d != across], index=0,
                         key="explorer_plane_y", format_func=name)
    return int(across), int(up)


def live_plane(arrays: dict | None, dims: tuple[int, int], latent_dim: int):
    """The live view's hover plane over ``dims``, with the cached test means behind it."""
    from dashboard.components import live_decoder

    mu, labels = (None, None) if arrays is None else (arrays["mu"], arrays["labels"])
    held = "" if latent_dim <= 2 else "; the other dimensions stay where the sliders put them"
    note = (f"Move over the plane to decode z[{dims[0]}], z[{dims[1]}] under the cursor{held}. "
            "Click to pin the point on the sliders. Dots: test digits' means, coloured by class.")
    return live_decoder.Plane(dims[0], dims[1], *live_decoder.plane_points(mu, labels, dims), note)


def store_slider_values(prefix: str, values: dict[int, float] | None) -> None:
    """Keep the values the browser reported as the sliders' values (the server path and captions read them)."""
    for dim, value in (values or {}).items():
        st.session_state[f"{prefix}{dim}"] = views.clip_to_sliders(value)
