"""The Train page's form: each field checked with the CLI's own messages, and what each combination will do.

Values are checked by building the same ``ModelConfig`` / ``TrainConfig`` the CLI builds, so a
field shows exactly the CLI's one-line message under itself, and a bad value never reaches
the queue. Session-state keys start with ``train_``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard.shell import tables
from vae_core import architectures
from vae_core.config import DATASETS, ConfigError, ModelConfig, TrainConfig, check_batch_fits
from vae_core.store import machine_id

DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


@dataclass(frozen=True)
class Combination:
    """One latent size of the form: its configs, and what pressing Train will do with it."""

    model_config: ModelConfig
    train_config: TrainConfig
    name: str
    plan: str  # one sentence for the page
    trains: bool  # False: cached, or already in the queue


def _problem(check, *args, **values) -> str | None:
    """The CLI's one-line message when ``check(*args, **values)`` refuses the values, else None."""
    try:
        check(*args, **values)
    except ConfigError as error:
        return str(error)
    return None


def _model_problem(**values) -> str | None:
    return _problem(ModelConfig, **{"latent_dim": 1, **values})


def _train_problem(**values) -> str | None:
    return _problem(TrainConfig, **values)


def parse_latent_sizes(text: str) -> tuple[list[int], str | None]:
    """'2 5, 10' -> ([2, 5, 10], None); a bad entry -> ([], the CLI's message for it)."""
    tokens = [token for token in re.split(r"[\s,]+", text.strip()) if token]
    if not tokens:
        return [], "latent size must be a positive integer: type one or more, for example 2 5 10"
    sizes = []
    for token in tokens:
        value = int(token) if re.fullmatch(r"[+-]?\d+", token) else token
        problem = _model_problem(latent_dim=value)
        if problem:
            return [], problem
        if value not in sizes:
            sizes.append(value)
    return sizes, None


def _show(problem: str | None) -> bool:
    """The field's message right under it; True when the field is fine."""
    if problem:
        st.error(problem, icon=":material/error:")
    return problem is None


def _fields(train_images: int | None, datasets: list[str]) -> tuple[dict, list[int], bool]:
    """Draw the fields; (values, latent sizes, every field valid)."""
    defaults = TrainConfig()
    top, middle, bottom = st.columns(3), st.columns(3), st.columns(3)
    choices, skipped = architecture_choices()
    values = {
        "dataset": top[0].selectbox("Data set", datasets, format_func=lambda name: DATASET_NAMES.get(name, name),
                                    key="train_dataset", help="MNIST, Fashion-MNIST, or your own images registered "
                                                              "below (or with `vae-explorer data add`)."),
        "architecture": top[1].selectbox("Architecture", choices, key="train_architecture",
                                         format_func=lambda name: tables.ARCHITECTURE_NAMES.get(name, name),
                                         help="MLP: 784 -> hidden -> z -> hidden -> 784. Conv: two stride-2 "
                                              "convolutions each way (fixed widths; about 8x the MLP's time). "
                                              "Others: registered by installed packages."),
    }
    for line in skipped:
        top[1].caption(line)
    with top[2]:
        text = st.text_input("Latent sizes", "3", key="train_latent_sizes",
                             help="One or more, separated by spaces: each is its own model and its own job.")
        sizes, problem = parse_latent_sizes(text)
        ok = _show(problem)
    with middle[0]:
        values["beta"] = st.number_input("Beta (KL weight)", value=defaults.beta, step=0.5, key="train_beta",
                                         help="Trains recon + beta * KL; reported losses stay the beta = 1 ELBO.")
        ok &= _show(_train_problem(beta=values["beta"]))
    with middle[1]:
        values["hidden_dim"] = st.number_input("Hidden width", value=ModelConfig(1).hidden_dim, step=50,
                                               key="train_hidden", disabled=values["architecture"] == "conv",
                                               help="The MLP's hidden layer (and a registered architecture's, if "
                                                    "it reads it); the conv VAE's widths are fixed.")
        ok &= _show(_model_problem(hidden_dim=values["hidden_dim"]))
    with middle[2]:
        values["epochs"] = st.number_input("Epochs", value=defaults.epochs, step=1, key="train_epochs")
        ok &= _show(_train_problem(epochs=values["epochs"]))
    with bottom[0]:
        values["lr"] = st.number_input("Learning rate", value=defaults.lr, step=0.0005, format="%.4f",
                                       key="train_lr", help="Adam's step size (the seed report's 0.001).")
        ok &= _show(_train_problem(lr=values["lr"]))
    with bottom[1]:
        values["batch_size"] = st.number_input("Batch size", value=defaults.batch_size, step=32, key="train_batch")
        problem = _train_problem(batch_size=values["batch_size"])
        if problem is None and train_images is not None:
            problem = _problem(check_batch_fits, values["batch_size"], train_images)
        ok &= _show(problem)
    with bottom[2]:
        values["seed"] = st.number_input("Seed", value=defaults.seed, step=1, key="train_seed")
        ok &= _show(_train_problem(seed=values["seed"]))
    return values, sizes, ok


def _images_problem(dataset: str, architecture: str) -> str | None:
    """Why ``architecture`` cannot read ``dataset``'s images (or the set cannot be read), in one line; else None."""
    from vae_core.data import DataUnavailableError, model_config

    try:
        model_config(dataset, 1, architecture=architecture)
    except (DataUnavailableError, ConfigError) as error:
        return str(error)
    return None


def architecture_choices() -> tuple[list[str], list[str]]:
    """(the architectures the form offers: the built-ins and the plugins that load, one line per plugin skipped)."""
    if not architectures.entry_points():  # nothing to import
        return list(architectures.BUILTIN), architectures.naming_problems()
    from vae_core.models.registry import available

    return list(available()), architectures.problems()


def seconds_per_epoch(checkpoints, model_config: ModelConfig, train_config: TrainConfig) -> tuple[float, str] | None:
    """(estimated seconds per epoch, from which stored models) for a config; None with nothing to go by.

    The stored models of the same architecture nearest in hidden width, batch size, then latent size
    (trained on the data at hand; those trained on this machine, ``store.machine_id``, when there are
    some) give their epoch times; an MLP's time scales with
    its hidden width (its matmuls dominate). The median over the epochs of up to ``COMPARABLE`` of
    them, the newest first among the equally near: one run slowed by a busy machine does not move it.
    """
    import statistics

    same = [c for c in checkpoints if c.model_config.architecture == model_config.architecture and c.history]
    here = [c for c in same if _info(c).get("machine") == machine_id()]
    same = here or same  # this machine's runs when there are some: the shipped ones were timed on another
    if not same:
        return None

    def distance(c) -> float:
        hidden = abs(math.log(model_config.hidden_dim / c.model_config.hidden_dim))
        batch = abs(math.log(train_config.batch_size / c.train_config.batch_size))
        latent = abs(math.log(model_config.latent_dim / c.model_config.latent_dim))
        other_data = c.train_config.dataset != train_config.dataset
        return hidden * (model_config.architecture == "mlp") + batch + 0.1 * other_data + 0.01 * latent

    # as near as the buckets tell (width, batch, data set; the latent size hardly counts), then the newest (ISO
    # times sort as text), then the nearest in latent size: stable sorts, the last one the first key
    nearest = sorted(same, key=distance)
    nearest = sorted(nearest, key=lambda c: str(_info(c).get("created", "")), reverse=True)
    nearest = sorted(nearest, key=lambda c: round(distance(c), 1))[:COMPARABLE]
    seconds = []
    for c in nearest:
        scale = model_config.hidden_dim / c.model_config.hidden_dim if model_config.architecture == "mlp" else 1.0
        seconds += [row["seconds"] * scale for row in c.history]
    sources = ", ".join(f"z = {c.model_config.latent_dim}" for c in nearest)
    return statistics.median(seconds), f"the median epoch of {len(nearest)} stored model(s): {sources}"


COMPARABLE = 5  # stored models whose epochs the estimate takes the median of


def _info(checkpoint) -> dict:
    info = getattr(checkpoint, "info", None)
    return info if isinstance(info, dict) else {}


def maps_seconds(root: Path, worker_warm: bool) -> tuple[float, bool]:
    """(typical seconds of a new model's maps and metrics on this machine, whether every step was timed here).

    t-SNE and UMAP run side by side (``runs._tsne_beside_umap``): the maps take the longer of the two. A
    worker's first maps also load UMAP's kernels ('UMAP start'), which slows the t-SNE beside them; a warm
    worker (one alive now: it waits for the next job) skips that, and the metrics' reference ('metrics start':
    the classifier's view of the data set, built once per worker). The per-digit values follow the maps, then
    the training digits are placed on them.
    """
    from vae_core import train_points
    from vae_core.map_progress import typical_seconds

    tsne = typical_seconds(root, "t-SNE", cold=not worker_warm)
    umap, metrics = typical_seconds(root, "UMAP"), typical_seconds(root, "metrics")
    start, metrics_start = (0.0, 0.0) if worker_warm else (typical_seconds(root, step) or 0.0
                                                           for step in ("UMAP start", "metrics start"))
    maps = max(tsne or 0.0, start + (umap or 0.0)) + sum(typical_seconds(root, step) or 0.0
                                                         for step in ("per-digit values", train_points.STEP))
    return maps + metrics_start + (metrics or 0.0), None not in (tsne, umap, metrics)


def _plan(ctx, jobs, model_config, train_config, name, after: tuple[float, bool] | None) -> tuple[str, bool]:
    """One combination's plan; ``after``: ``maps_seconds`` when its maps follow, else None."""
    from vae_core import store
    from vae_core.jobs import place_in_queue

    if any(c.name == name for c in ctx.everything):
        return "cached, will be reused", False
    job = next((j for j in reversed(jobs) if j.name == name), None)
    if job is not None and job.status == "running":
        return "training now (see below)", False
    if job is not None and job.status == "queued":
        return f"in the queue, place {place_in_queue(jobs, job)}", False
    done = store.resume_epochs(ctx.root, name)
    left = train_config.epochs - done
    start = f"will continue after epoch {done}" if done else "will train"
    estimate = seconds_per_epoch(ctx.everything, model_config, train_config)
    if estimate is None:
        return f"{start}, {left} epochs (no stored epoch times on this machine to estimate from)", True
    per_epoch, source = estimate
    plan = (f"{start}: about {_duration(left * per_epoch)} training ({left} epochs at {per_epoch:.2g} s, "
            f"{source})")
    if after is not None:
        seconds, timed = after
        plan += (f", then about {_duration(seconds)} of maps and metrics" if timed
                 else ", then its maps and metrics (not yet timed on this machine)")
    return plan + "; explorable as soon as training ends", True


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def form(ctx, jobs, data_dir: Path, maps: bool = True) -> tuple[list[Combination], str | None]:
    """Draw the form and each combination's plan; (combinations, why Train cannot run or None)."""
    from vae_core.data import model_config as images_config
    from vae_core.data import raw_folder, split_files_present, split_size
    from vae_core.store import run_name
    from vae_core.user_data import registered_names
    from vae_core.worker import live_slots

    datasets = [*DATASETS, *registered_names(ctx.root)]
    dataset = st.session_state.get("train_dataset", DATASETS[0])
    train_images = split_size(dataset, True, data_dir) if dataset in datasets else None
    values, sizes, ok = _fields(train_images, datasets)
    dataset = values.pop("dataset")
    problem = _images_problem(dataset, values["architecture"])
    if problem:
        st.error(problem, icon=":material/error:")
        return [], "fix the fields marked above"
    if not ok:
        return [], "fix the fields marked above"
    combinations = []
    after = maps_seconds(ctx.root, bool(live_slots(ctx.root))) if maps else None  # read once per run
    for latent_dim in sizes:
        model_config = images_config(dataset, latent_dim, hidden_dim=int(values["hidden_dim"]),
                                     architecture=values["architecture"])
        train_config = TrainConfig(dataset=dataset, epochs=int(values["epochs"]), batch_size=int(values["batch_size"]),
                                   lr=float(values["lr"]), seed=int(values["seed"]), beta=float(values["beta"]))
        name = run_name(model_config, train_config)
        plan, trains = _plan(ctx, jobs, model_config, train_config, name, after)
        combinations.append(Combination(model_config, train_config, name, plan, trains))
    if not all(split_files_present(dataset, train, data_dir) for train in (True, False)):
        folder = raw_folder(dataset, data_dir)
        if dataset not in DATASETS:
            return combinations, f"{dataset} cannot be read from `{folder}`: register it again below"
        return combinations, (f"{DATASET_NAMES[dataset]} is not in `{folder}`: put its files there, or set "
                              f"`VAE_DATA_DIR` to the folder that holds them and restart the app "
                              f"(`vae-explorer download --dataset {dataset}` fetches them when online)")
    return combinations, None
