"""One training run of one config: lock, recover, cache check, resume point, atomic save.

Every caller that trains goes through ``open_run`` (the CLI's `train`, each Ray trial of
`sweep`, the dashboard's worker), so all of them keep the same promises: one process trains a config at a time, a
half-written checkpoint from a killed process is recovered, a trained config is a cache
hit, every completed epoch survives as a resume point, and the checkpoint appears whole or
not at all. The loop itself (``train.train_vae``) knows nothing of files.

    with open_run(root, model_config, train_config) as run:
        checkpoint = run.cached or run.train(data.split(True), data.split(False), device)
    ensure_projections(checkpoint, data)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import torch

from . import store
from .atomic import check_writable, translated_errors
from .config import ModelConfig, TrainConfig
from .data import Split, load_split
from .train import (
    StepCallback,
    TrainingDiverged,
    TrainingState,
    history_as_dicts,
    state_from_tensors,
    state_to_tensors,
    train_vae,
)

Report = Callable[[str], None]
NOTHING_KEPT = "no epoch was completed"


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class DataCache:
    """Loads each split of a data set at most once, and only if something needs it."""

    def __init__(self, dataset: str, data_dir: str | None):
        self.dataset, self.data_dir = dataset, data_dir

    @cache  # noqa: B019 - one instance per command run or job
    def split(self, train: bool) -> Split:
        """The train or test ``data.Split``."""
        return load_split(self.dataset, train=train, data_dir=self.data_dir)


def acquire_lock(root: Path, name: str, report: Report = to_stderr):
    """The held per-config lock; waits (and says so) while another process trains it.

    An unwritable root fails here first, with the same one-line ``SaveError`` as a save.
    """
    from filelock import Timeout

    with translated_errors(root / name):
        lock = store.lock_for(root, name)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            report(f"{name}: another process is training it, waiting")
            lock.acquire()
    return lock


def kept_epochs(root: Path, name: str) -> str:
    """'epochs 1-3 are kept as a resume point' (or 'no epoch was completed'), for any stopped run."""
    done = store.resume_epochs(root, name)
    if done == 0:
        return NOTHING_KEPT
    return f"{'epoch 1 is' if done == 1 else f'epochs 1-{done} are'} kept as a resume point"


def kept_note(root: Path, name: str) -> str:
    """``kept_epochs`` with what the CLI's user does next."""
    kept = kept_epochs(root, name)
    return f"{kept}, {'nothing was kept' if kept == NOTHING_KEPT else 'run the same command to continue'}"


@dataclass
class Run:
    """A config whose lock is held: its cached checkpoint, or what ``train`` needs to make one."""

    root: Path
    name: str
    model_config: ModelConfig
    train_config: TrainConfig
    cached: store.Checkpoint | None  # the stored checkpoint of this config, unless forced to retrain
    force: bool = False
    report: Report = field(default=to_stderr, repr=False)

    def resume_state(self, device: torch.device) -> TrainingState | None:
        """The state after the last completed epoch of an earlier run, or None (none, forced, unreadable)."""
        saved = None if self.force else store.load_resume_point(self.root, self.name)
        if saved is None:
            return None
        tensors, meta = saved
        try:
            state = state_from_tensors(tensors, meta, self.model_config, self.train_config, device)
        except (KeyError, RuntimeError, TypeError, ValueError):
            self.report(f"{self.name}: resume point unreadable, starting from epoch 1")
            return None
        self.report(f"{self.name}: resuming after epoch {state.epochs_done}")
        return state

    def save_resume_point(self, state: TrainingState) -> None:
        tensors, meta = state_to_tensors(state)
        store.save_resume_point(self.root, self.name, tensors, meta)

    def train(self, train_split: Split, test_split: Split, device: torch.device,
              on_step: StepCallback | None = None,
              on_epoch: Callable[[TrainingState], None] | None = None) -> store.Checkpoint:
        """Train from the resume point (or from scratch), save atomically, drop the resume point.

        ``on_epoch(state)`` runs after each epoch's resume point is saved (the dashboard's worker
        reports the growing history there).
        """

        def epoch_done(state: TrainingState) -> None:
            self.save_resume_point(state)
            if on_epoch is not None:
                on_epoch(state)

        try:
            state = train_vae(self.model_config, self.train_config, train_split, test_split, device=device,
                              state=self.resume_state(device), on_step=on_step, on_epoch=epoch_done)
        except TrainingDiverged as error:
            raise TrainingDiverged(f"{self.name}: {error}; {kept_note(self.root, self.name)}") from error
        checkpoint = store.save_checkpoint(self.root, state.model, self.train_config,
                                           history_as_dicts(state.history), device=str(device))
        store.clear_resume_point(self.root, self.name)
        return checkpoint


@contextmanager
def open_run(root: Path, model_config: ModelConfig, train_config: TrainConfig, force: bool = False,
             report: Report = to_stderr) -> Iterator[Run]:
    """Hold the config's lock for the block: recover a half-finished save, look for a cached checkpoint."""
    name = store.run_name(model_config, train_config)
    lock = acquire_lock(root, name, report)
    try:
        store.recover_dir(root / name)
        cached = None if force else store.find(root, model_config, train_config)
        if cached is not None:
            store.clear_resume_point(root, name)  # left behind if a run stopped right after saving
        yield Run(root, name, model_config, train_config, cached, force, report)
    finally:
        lock.release()


def ensure_projections(checkpoint: store.Checkpoint, data: DataCache, force: bool = False,
                       device: str | None = None, tsne_points: int | None = None,
                       report: Report = to_stderr) -> None:
    """Compute and cache the maps unless cached; ``tsne_points`` given: unless cached with that many.

    A file cached before UMAP existed only gains UMAP, mapped from its cached means: no test
    images, no model and no t-SNE again.
    """
    from .projections import (
        DEFAULT_TSNE_POINTS,
        add_umap,
        compute_projections,
        has_umap,
        load_projections,
        save_projections,
        tsne_description,
    )
    from .train import pick_device

    def say(line: str) -> None:
        report(f"{checkpoint.name}: {line}")

    def check_writable_first() -> None:  # a read-only folder is reported before minutes of t-SNE, not after
        check_writable(checkpoint.path, checkpoint.path / store.PROJECTIONS_FILE)

    cached = None if force else load_projections(checkpoint)
    if cached is not None and (tsne_points is None
                               or len(cached["tsne_index"]) == min(tsne_points, len(cached["labels"]))):
        if not has_umap(cached):
            check_writable_first()
            say(f"adding UMAP of the {len(cached['labels']):,} cached test means")
            save_projections(checkpoint, add_umap(cached, checkpoint.train_config.seed, report=say))
        return
    check_writable_first()
    test = data.split(False)
    points = min(tsne_points or DEFAULT_TSNE_POINTS, len(test.labels))
    say(f"PCA of {len(test.labels):,} test means, then t-SNE of {tsne_description(points)}, then UMAP of all of them")
    model = store.load_model(checkpoint, pick_device(device))
    arrays = compute_projections(model, test, tsne_points=points, seed=checkpoint.train_config.seed, report=say)
    save_projections(checkpoint, arrays)
