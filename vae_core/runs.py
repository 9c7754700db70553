"""One training run of one config: lock, recover, cache check, resume point, atomic save.

Every caller that trains goes through ``open_run`` (the CLI's `train`, each Ray trial of
`sweep`, the dashboard's worker), so all of them keep the same promises: one process trains a config at a time, a
half-written checkpoint from a killed process is recovered, a trained config is a cache
hit, every completed epoch survives as a resume point, and the checkpoint appears whole or
not at all. The loop itself (``train.train_vae``) knows nothing of files.

    with open_run(root, model_config, train_config) as run:
        checkpoint = run.cached or run.train(train_split, test_split, device)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import store
from .atomic import translated_errors
from .config import ModelConfig, TrainConfig
from .data import Split
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


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def kept_note(root: Path, name: str) -> str:
    """Which completed epochs survive as a resume point, for the messages of a stopped run."""
    done = store.resume_epochs(root, name)
    if done == 0:
        return "no epoch was completed, nothing was kept"
    kept = "epoch 1 is" if done == 1 else f"epochs 1-{done} are"
    return f"{kept} kept as a resume point, run the same command to continue"


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
