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

import os
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
from .replay import ReplayRecorder
from .train import (
    StepCallback,
    TrainingDiverged,
    TrainingState,
    history_as_dicts,
    new_training_state,
    state_from_tensors,
    state_to_tensors,
    train_vae,
)

Report = Callable[[str], None]
NOTHING_KEPT = "no epoch was completed"


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class DataCache:
    """Loads each split of a data set at most once, and only if something needs it.

    ``data_dir``: the torchvision root of the built-in sets; ``checkpoint_dir``: the checkpoint root whose
    datasets/ folder holds a registered set (the command's --checkpoint-dir; None: $VAE_CHECKPOINT_DIR's).
    """

    def __init__(self, dataset: str, data_dir: str | None, checkpoint_dir: str | os.PathLike | None = None):
        self.dataset, self.data_dir, self.checkpoint_dir = dataset, data_dir, checkpoint_dir

    @cache  # noqa: B019 - one instance per command run or job
    def split(self, train: bool) -> Split:
        """The train or test ``data.Split``."""
        return load_split(self.dataset, train=train, data_dir=self.data_dir, checkpoint_dir=self.checkpoint_dir)


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

    def resume_state(self, device: torch.device,
                     test_split: Split) -> tuple[TrainingState | None, ReplayRecorder | None]:
        """The state after the last completed epoch of an earlier run and its replay so far, or (None, None).

        (None, None): no resume point, forced, or unreadable. A resume point written before replays
        were recorded resumes without one: (state, None).
        """
        saved = None if self.force else store.load_resume_point(self.root, self.name)
        if saved is None:
            return None, None
        tensors, meta = saved
        try:
            state = state_from_tensors(tensors, meta, self.model_config, self.train_config, device)
        except (KeyError, RuntimeError, TypeError, ValueError):
            self.report(f"{self.name}: resume point unreadable, starting from epoch 1")
            return None, None
        self.report(f"{self.name}: resuming after epoch {state.epochs_done}")
        try:
            recorder = ReplayRecorder.from_tensors(tensors, self.model_config, self.train_config, test_split)
        except ValueError:
            self.report(f"{self.name}: its resume point has no replay of the earlier epochs; it trains without one")
            return state, None
        return state, recorder

    def save_resume_point(self, state: TrainingState, recorder: ReplayRecorder | None) -> None:
        tensors, meta = state_to_tensors(state)
        store.save_resume_point(self.root, self.name, tensors | (recorder.to_tensors() if recorder else {}), meta)

    def train(self, train_split: Split, test_split: Split, device: torch.device,
              on_step: StepCallback | None = None,
              on_epoch: Callable[[TrainingState], None] | None = None,
              partial_replay: Path | None = None) -> store.Checkpoint:
        """Train from the resume point (or from scratch), save atomically, drop the resume point.

        Each epoch (and the initialisation) is recorded into the model's replay (``replay.npz``).
        ``on_epoch(state)`` runs after each epoch's resume point is saved (the dashboard's worker
        reports the growing history there); ``partial_replay``: where the replay so far is written
        after each epoch too (the Train page's card draws it).
        """
        state, recorder = self.resume_state(device, test_split)
        if state is None:
            state = new_training_state(self.model_config, self.train_config, device)
            recorder = ReplayRecorder.for_run(self.model_config, self.train_config, test_split)
            recorder.record(state.model, 0)  # the initialisation: where every replay starts

        def epoch_done(state: TrainingState) -> None:
            if recorder is not None:
                recorder.record(state.model, state.epochs_done)
                if partial_replay is not None:
                    recorder.save(partial_replay)
            self.save_resume_point(state, recorder)
            if on_epoch is not None:
                on_epoch(state)

        try:
            state = train_vae(self.model_config, self.train_config, train_split, test_split, device=device,
                              state=state, on_step=on_step, on_epoch=epoch_done)
        except TrainingDiverged as error:
            raise TrainingDiverged(f"{self.name}: {error}; {kept_note(self.root, self.name)}") from error
        checkpoint = store.save_checkpoint(self.root, state.model, self.train_config,
                                           history_as_dicts(state.history), device=str(device))
        if recorder is not None:
            recorder.save(checkpoint.path)
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
                       report: Report = to_stderr, slow: bool = True, training_digits: bool = False) -> None:
    """Cache the maps that are missing: the quick ones first, then (``slow``) t-SNE and UMAP, then
    (``training_digits``) the training digits placed on them (``train_points``: the map's "Training digits too").

    The quick maps (the test set's means and their PCA) take under a second and are saved at
    once: from then on every page can use the model. t-SNE and UMAP follow, each saved as soon as
    it is done and computed from the cached means (no test images, no model), while a
    ``MapWork`` lock tells the pages what is being computed. ``tsne_points`` given: a t-SNE of
    another size is redone.
    """
    from . import train_points
    from .map_progress import MapWork
    from .point_stats import pending
    from .projections import has_tsne, load_projections

    cached = None if force else load_projections(checkpoint)
    if cached is not None and tsne_points is not None and has_tsne(cached) \
            and len(cached["tsne_index"]) != min(tsne_points, len(cached["labels"])):
        cached = {key: value for key, value in cached.items() if key not in ("tsne", "tsne_index")}
    if cached is None:
        cached = _quick_maps(checkpoint, data, device, report)
    if not slow:
        return
    with MapWork(checkpoint.path.parent, checkpoint.name) as work:
        if work.busy:
            report(f"{checkpoint.name}: another process is computing its t-SNE and UMAP; leaving them to it")
            return
        stats = pending(checkpoint, cached, lambda: data.split(False).images, device)  # the per-digit values
        _slow_maps(checkpoint, cached, tsne_points, work, report, stats)
        if training_digits:
            work.step(train_points.STEP)
            train_points.ensure(checkpoint, lambda: data.split(True), device=device, report=report, force=force)


def _check_writable(checkpoint: store.Checkpoint) -> None:
    """A read-only folder is reported before the work, not after it."""
    check_writable(checkpoint.path, checkpoint.path / store.PROJECTIONS_FILE)


def _quick_maps(checkpoint: store.Checkpoint, data: DataCache, device: str | None, report: Report) -> dict:
    """Encode the test set, take its PCA, save both: the model is explorable from here on."""
    from .projections import quick_maps, save_projections
    from .train import pick_device

    _check_writable(checkpoint)
    model = store.load_model(checkpoint, pick_device(device))
    arrays = quick_maps(model, data.split(False))
    save_projections(checkpoint, arrays)
    report(f"{checkpoint.name}: PCA of {len(arrays['labels']):,} test means saved: the model is explorable")
    return arrays


def _slow_maps(checkpoint: store.Checkpoint, arrays: dict, tsne_points: int | None, work, report: Report,
               stats=None) -> None:
    """Add t-SNE and UMAP to the cached means (at the same time when both are missing), saving each as it lands;
    ``work`` tells the pages. ``stats`` (``point_stats.pending``): the per-digit values, added after the maps."""
    import time

    from .map_progress import record_time
    from .projections import (
        DEFAULT_TSNE_POINTS,
        add_tsne,
        add_umap,
        has_tsne,
        has_umap,
        save_projections,
        tsne_description,
    )

    def say(line: str) -> None:
        report(f"{checkpoint.name}: {line}")

    seed, root = checkpoint.train_config.seed, checkpoint.path.parent
    if not has_tsne(arrays) and not has_umap(arrays):
        _tsne_beside_umap(checkpoint, arrays, tsne_points or DEFAULT_TSNE_POINTS, work, say, stats)
        return
    if not has_tsne(arrays):
        _check_writable(checkpoint)
        points = min(tsne_points or DEFAULT_TSNE_POINTS, len(arrays["labels"]))
        say(f"t-SNE of {tsne_description(points)}" + ("" if has_umap(arrays) else
                                                      f", then UMAP of all {len(arrays['labels']):,} test means"))
        work.step("t-SNE", 0.0)
        started = time.perf_counter()
        arrays = add_tsne(arrays, tsne_points or DEFAULT_TSNE_POINTS, seed, report=say,
                          progress=lambda fraction: work.step("t-SNE", fraction))
        save_projections(checkpoint, arrays)
        record_time(root, "t-SNE", time.perf_counter() - started)
    if not has_umap(arrays):
        _check_writable(checkpoint)
        work.step("UMAP")
        _warm_up_umap(root, say)
        started = time.perf_counter()
        arrays = add_umap(arrays, seed, report=say)
        save_projections(checkpoint, arrays)
        record_time(root, "UMAP", time.perf_counter() - started)
    if stats is not None:
        _check_writable(checkpoint)
        work.step("per-digit values")
        save_projections(checkpoint, {**arrays, **_timed(stats, root, say)})


def _timed(stats, root, say: Report) -> dict:
    """The per-digit values ``stats()`` computes, their time said and kept (the Train page's estimate)."""
    import time

    from .map_progress import record_time

    started = time.perf_counter()
    values = stats()
    seconds = time.perf_counter() - started
    if values:
        say(f"per-digit {', '.join(values)} of {len(next(iter(values.values()))):,} test digits: {seconds:.1f} s")
        record_time(root, "per-digit values", seconds)
    return values


def _tsne_beside_umap(checkpoint: store.Checkpoint, arrays: dict, tsne_points: int, work,
                      say: Report, stats=None) -> None:
    """t-SNE in a second process while UMAP runs here: a seeded UMAP uses one core of the two, and t-SNE
    (two threads) takes the rest. UMAP is saved when it lands, t-SNE after it, then the per-digit values
    (``stats``); a failed child process leaves t-SNE to this one."""
    import time

    import numpy as np

    from .map_progress import record_time
    from .projections import add_tsne, add_umap, save_projections, tsne_description, tsne_subset, umap_warm
    from .tsne_process import TsneProcess

    seed, root = checkpoint.train_config.seed, checkpoint.path.parent
    _check_writable(checkpoint)
    subset = tsne_subset(len(arrays["mu"]), tsne_points, seed)
    cold = not umap_warm()
    say(f"t-SNE of {tsne_description(len(subset))} in a second process; UMAP of all "
        f"{len(arrays['labels']):,} test means beside it")
    work.step("t-SNE", 0.0)
    started = time.perf_counter()
    with TsneProcess(np.asarray(arrays["mu"], dtype=np.float64)[subset], seed) as pending:
        _warm_up_umap(root, say)
        fitted = time.perf_counter()
        arrays = add_umap(arrays, seed, report=say)
        save_projections(checkpoint, arrays)
        record_time(root, "UMAP", time.perf_counter() - fitted)
        try:
            arrays = {**arrays, "tsne": pending.result().astype(np.float32), "tsne_index": subset}
            say(f"t-SNE of {len(subset):,} test means: {time.perf_counter() - started:.1f} s")
        except RuntimeError as error:
            say(f"{error}; t-SNE runs here instead")
            arrays = add_tsne(arrays, tsne_points, seed, report=say)
    save_projections(checkpoint, arrays)
    record_time(root, "t-SNE", time.perf_counter() - started, cold=cold)
    if stats is not None:  # after the maps: on two cores, beside t-SNE they would slow it
        work.step("per-digit values")
        save_projections(checkpoint, {**arrays, **_timed(stats, root, say)})


def _warm_up_umap(root, say: Report) -> None:
    """A new process's first UMAP loads numba's kernels first, timed as its own step ('UMAP start')."""
    from .map_progress import record_time
    from .projections import warm_up_umap

    seconds = warm_up_umap()
    if seconds:
        say(f"UMAP's kernels loaded in {seconds:.1f} s (once per process)")
        record_time(root, "UMAP start", seconds)
