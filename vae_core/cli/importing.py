"""`vae-explorer import`: a VAE trained by the pytorch/examples tutorial, made a checkpoint here and explorable.

Read and check the file (``vae_core.importing``), write the checkpoint atomically (``store.save_imported``:
weights and config.json, no history), then what a training's checkpoint gets: the PCA map (explorable from
then on), the test loss and metrics of `evaluate` (metrics.json), and the t-SNE and UMAP maps. Each step
prints its time. Without the data set the checkpoint is still written, and one line says what is missing.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from .. import store
from ..data import DataUnavailableError
from ..evaluate import Settings
from ..importing import ImportedVAE, read_tutorial_vae, tutorial_training
from ..runs import DataCache, acquire_lock, ensure_projections
from .common import checkpoint_root, say

# A folder name `train` derives (store.run_name): an import under it would be taken for that training's cache.
TRAINED_NAME = re.compile(r"-e\d+-b\d+-lr[^-]+-s\d+(-beta[^-]+)?$")


def run_import(args: argparse.Namespace) -> int:
    root = checkpoint_root(args)
    training = tutorial_training(args.dataset)  # an unknown --dataset is refused before any reading
    settings = Settings(iw_samples=args.iw_samples, samples=args.samples)
    if args.name is not None:
        check_name(root, args.name, args.force)
    started = time.perf_counter()
    imported = read_tutorial_vae(Path(args.path))
    name = args.name or imported.derived_name(args.dataset)
    config = imported.model.config
    _step(name, f"read {Path(args.path).name} (latent {config.latent_dim}, hidden {config.hidden_dim}, "
                f"sha256 {imported.source['sha256'][:12]}...)", started)
    checkpoint = _write(root, name, imported, training, args.force)
    data = DataCache(args.dataset, args.data_dir)
    try:
        _make_explorable(checkpoint, data, args, settings)
    except DataUnavailableError as error:
        say(f"{name}: imported, but its test loss and maps need the data set: {error}")
        return 0
    _step(name, "imported", started)
    return 0


def _step(name: str, what: str, started: float) -> None:
    say(f"{name}: {what} in {time.perf_counter() - started:.2f} s")


def check_name(root: Path, name: str, force: bool) -> Path:
    """The folder for ``name``, refused when it leaves the root, looks like a training's, or exists without --force."""
    target = store.checkpoint_path(root, name)
    if TRAINED_NAME.search(name):
        raise store.CheckpointError(f"{name!r} is named like a model `vae-explorer train` makes, which would take "
                                    "it for its own: pass another --name")
    if not target.exists():
        return target
    if store.holds_auxiliary(target):
        raise store.CheckpointError(f"{target} holds the classifier that `evaluate` uses: pass another --name")
    if not force:
        raise store.CheckpointError(f"{target} already exists: pass --force to replace it, or another --name")
    return target


def _write(root: Path, name: str, imported: ImportedVAE, training, force: bool) -> store.Checkpoint:
    """Save the checkpoint under the name's lock (a half-finished earlier save recovered first)."""
    started = time.perf_counter()
    check_name(root, name, force)  # before the lock: a refused name leaves not even a lock file behind
    lock = acquire_lock(root, name, say)
    try:
        store.recover_dir(root / name)
        check_name(root, name, force)
        checkpoint = store.save_imported(root, name, imported.model, training, imported.source)
    finally:
        lock.release()
    _step(name, f"wrote {checkpoint.path} (model.safetensors, config.json; no training history)", started)
    return checkpoint


def _make_explorable(checkpoint: store.Checkpoint, data: DataCache, args: argparse.Namespace,
                     settings: Settings) -> None:
    """The PCA map, then the test loss and metrics, then (``--maps now``) t-SNE and UMAP: each step timed."""
    if args.maps == "none":
        say(f"{checkpoint.name}: no maps (--maps none): run `vae-explorer project --dataset {args.dataset}`")
    else:
        started = time.perf_counter()
        ensure_projections(checkpoint, data, device=args.device, report=say, slow=False)
        _step(checkpoint.name, "PCA map", started)
    _test_loss(checkpoint, data, args, settings)
    if args.maps == "now":
        started = time.perf_counter()
        ensure_projections(checkpoint, data, device=args.device, report=say)
        _step(checkpoint.name, "t-SNE and UMAP maps", started)
    elif args.maps == "later":
        say(f"{checkpoint.name}: t-SNE and UMAP left for later: run `vae-explorer project --dataset {args.dataset}`")


def _test_loss(checkpoint: store.Checkpoint, data: DataCache, args: argparse.Namespace, settings: Settings) -> None:
    """`evaluate`'s metrics.json (its ``elbo.loss`` is the test loss); one line instead when no classifier is here."""
    from ..atomic import check_writable
    from ..classifier import classifier_name, load_classifier
    from ..evaluate import build_reference, evaluate_checkpoint
    from ..train import pick_device

    started, root, dataset = time.perf_counter(), checkpoint.path.parent, args.dataset
    try:
        classifier, _ = load_classifier(root, dataset, pick_device(args.device))
    except store.CheckpointError:
        say(f"{checkpoint.name}: no test loss or metrics yet: `evaluate` needs {classifier_name(dataset)} in {root} "
            f"(`vae-explorer train-classifier --dataset {dataset}`, then `vae-explorer evaluate --dataset {dataset}`)")
        return
    check_writable(checkpoint.path, checkpoint.path / store.METRICS_FILE)
    reference = build_reference(data.split(True), data.split(False), classifier, classifier_name(dataset))
    elbo = evaluate_checkpoint(checkpoint, reference, settings, pick_device(args.device))["elbo"]
    _step(checkpoint.name, f"test loss {elbo['loss']:.2f} nats (recon {elbo['recon']:.2f} + KL {elbo['kl']:.2f}) "
                           "and evaluate's metrics", started)
