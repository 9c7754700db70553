"""Session and sidebar state: the chosen dataset and model, and the slider values kept across reruns.

The router (``app.py``) calls ``sidebar()`` once per run; it stores the chosen dataset and
model in session state (keys prefixed ``app_``), so the choice carries across pages.
Pages read it back with ``context()`` or ``require_checkpoint()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboard.shell import cache, captions, links, points, queue, tables, view

CONTEXT_KEY = "app_context"
DATASET_KEY = "dataset"  # the pickers' widget keys, and their URL parameters (bind="query-params")
MODEL_KEY = "model"


@dataclass(frozen=True)
class AppContext:
    """What the sidebar chose, for the pages of this run."""

    root: Path
    checkpoints: list = field(default_factory=list)  # of the chosen dataset, by latent size
    problems: list = field(default_factory=list)  # store.Problem: folders skipped
    dataset: str | None = None
    checkpoint: object | None = None  # store.Checkpoint, None when there is none
    error: str | None = None  # why the checkpoint directory could not be read at all
    everything: list = field(default_factory=list)  # every dataset's checkpoints (Compare's data set axis)

    def label(self, checkpoint) -> str:
        return tables.model_label(checkpoint, self.checkpoints)


# --- the checkpoints: scanned again only when a folder in the root changed ---

def _fingerprint(root: Path) -> tuple:
    """Modification times of the root and of each checkpoint folder: a few stat calls tell when to rescan."""
    if not root.is_dir():
        return ()
    entries = [("", root.stat().st_mtime_ns)]
    for entry in os.scandir(root):
        if entry.is_dir() and not entry.name.startswith("."):
            entries.append((entry.name, entry.stat().st_mtime_ns))
    return tuple(sorted(entries))


@st.cache_resource(show_spinner="Reading checkpoints…", max_entries=4)
def _scan(root: str, fingerprint: tuple):
    from vae_core import store

    return store.scan(Path(root))


def scan_checkpoints():
    """(root, checkpoints, problems, error): error is one sentence when the root cannot be read."""
    from vae_core.store import CheckpointError

    root = cache.checkpoint_root()
    try:
        checkpoints, problems = _scan(str(root.resolve()), _fingerprint(root))
    except (CheckpointError, OSError) as error:
        return root, [], [], str(error)
    return root, checkpoints, problems, None


def _take_linked_model(checkpoints) -> str | None:
    """The URL's ``model`` when it is not the one the picker shows (an opened link, Your digit's "Explore from
    here"), named by its label (as the picker writes it) or its folder name: its data set and itself, before
    the pickers are drawn. Only a listed model is taken; anything else leaves the picker (fault-matrix row 17).

    Returns the model's label when the link named it by its folder (an older link), else None.
    """
    wanted = links.requested(MODEL_KEY)  # a label the picker showed in this session is an echo, not a request
    if wanted is None:
        return None
    named, labels = {}, {}  # name and label -> (data set, name); name -> label
    for dataset in tables.datasets(checkpoints):
        mine = [c for c in checkpoints if c.train_config.dataset == dataset]
        for checkpoint in mine:
            labels[checkpoint.name] = tables.model_label(checkpoint, mine)
            named[checkpoint.name] = named[labels[checkpoint.name]] = (dataset, checkpoint.name)
    if wanted not in named:
        return None
    dataset, name = named[wanted]
    if name != st.session_state.get(MODEL_KEY):
        st.session_state[DATASET_KEY] = dataset
        st.session_state[MODEL_KEY] = name
    if wanted != name:
        return None
    links.shown(MODEL_KEY, name)  # rewritten once (``relabel``); Back to the old address is not a new request
    return labels[name]


def relabel(label: str) -> None:
    """An address that named the model by its folder opens again with its label (as the picker writes it).

    Streamlit drops a value its bound picker does not offer from the address, and writes a value set by code
    only on a later run, so a link copied from the bar would lose the model. The page is found as the router
    names it (``dashboard/<slice>/page.py`` at ``/<slice with dashes>``; Overview at ``/``).
    """
    from urllib.parse import urlparse

    if st.context.url is None:  # no browser (AppTest): nothing to copy a link from
        return
    url_path = urlparse(st.context.url).path.rstrip("/").split("/")[-1]
    page = f"{url_path.replace('-', '_') or 'overview'}/page.py"
    if (Path(__file__).resolve().parent.parent / page).is_file():
        st.switch_page(page, query_params={**st.query_params.to_dict(), MODEL_KEY: label})


def sidebar() -> AppContext:
    """Dataset picker (only when several datasets have checkpoints) and model picker."""
    root, checkpoints, problems, error = scan_checkpoints()
    if not checkpoints:
        st.sidebar.warning(f"No checkpoints in `{root}`.")
        context = AppContext(root=root, problems=problems, error=error)
    else:
        names = tables.datasets(checkpoints)
        fresh = MODEL_KEY not in st.session_state  # this session's first run: the picker is not bound yet
        older = _take_linked_model(checkpoints)  # an address's model, its data set first
        if older is not None and fresh:
            relabel(older)
        view.keep_valid(DATASET_KEY, names)
        dataset = st.sidebar.selectbox("Dataset", names, key=DATASET_KEY, bind="query-params",
                                       persist_state="session") \
            if len(names) > 1 else names[0]
        mine = [c for c in checkpoints if c.train_config.dataset == dataset]
        by_name = {c.name: c for c in mine}
        view.keep_valid(MODEL_KEY, list(by_name))
        # bound to the URL as the model's label ("MNIST · z = 10"): the picker survives every page change
        chosen = st.sidebar.selectbox("Model", list(by_name), key=MODEL_KEY, bind="query-params",
                                      persist_state="session",
                                      format_func=lambda name: tables.model_label(by_name[name], mine),
                                      help="Every page shows this model; Compare puts it beside others.")
        links.shown(MODEL_KEY, tables.model_label(by_name[chosen], mine))
        context = AppContext(root, mine, problems, dataset, by_name[chosen], everything=checkpoints)
        st.sidebar.caption(f"{len(checkpoints)} checkpoint(s) in `{root}`")
    if problems:
        st.sidebar.warning(f"{len(problems)} folder(s) or file(s) in the checkpoint directory were skipped: "
                           "see Overview.")
    _resume_training_queue(root)
    st.session_state[CONTEXT_KEY] = context
    return context


def _resume_training_queue(root: Path) -> None:
    """Any page that opens restarts the Train page's worker if jobs wait (say, after a server restart)."""
    from vae_core.jobs import JobQueue

    if JobQueue(root).exists():
        problem = queue.start_workers(root)
        if problem:
            st.sidebar.error(problem)


def context() -> AppContext:
    return st.session_state[CONTEXT_KEY]


def how_to_train(root: Path, error: str | None = None) -> None:
    if error:
        st.error(error)
    st.info(
        f"There are no trained models in `{root}` yet. Train some with "
        f"`{captions.TRAIN_HINT}` (MNIST is read from `VAE_DATA_DIR`), or set "
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
        st.info(captions.missing_data_sentence(reason, what))
    elif not points.split_matches(split, arrays):
        differ = (f"has {len(split.labels)} images but this model's cached means cover {len(arrays['mu'])}"
                  if len(split.labels) != len(arrays["mu"]) else "holds other digits than this model's cached means")
        st.info(f"{what} are hidden: the {ctx.dataset} test set here {differ}; point VAE_DATA_DIR at the data it "
                "was trained on (for a registered set, register it as it was, or retrain the model).")
        split = None
    return split, arrays
