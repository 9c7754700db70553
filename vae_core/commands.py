"""What each `vae-explorer` subcommand does; argument parsing lives in ``cli``."""

from __future__ import annotations

import argparse
import sys
from functools import cache

from . import store
from .cli import checkpoint_root, print_json
from .config import ModelConfig, TrainConfig
from .data import Split, download, load_split
from .projections import (
    DEFAULT_TSNE_POINTS,
    compute_projections,
    load_projections,
    save_projections,
    tsne_description,
)
from .runs import kept_note, open_run
from .train import pick_device


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _DataCache:
    """Loads each split at most once per command, and only if something needs it."""

    def __init__(self, dataset: str, data_dir: str | None):
        self.dataset, self.data_dir = dataset, data_dir

    @cache  # noqa: B019 - one instance per command run
    def split(self, train: bool) -> Split:
        return load_split(self.dataset, train=train, data_dir=self.data_dir)


def _progress_bar(latent_dim: int, epochs: int, quiet: bool):
    """One tqdm bar per model over all its epochs, showing the running loss; None when quiet."""
    if quiet:
        return None
    from tqdm import tqdm

    bar = None  # made at the first step, so a run that fails before training draws no bar

    def on_step(epoch: int, step: int, steps: int, running_loss: float) -> None:
        nonlocal bar
        if bar is None:  # first step, possibly of a resumed run
            bar = tqdm(desc=f"z={latent_dim}", unit="batch", dynamic_ncols=True,
                       total=steps * epochs, initial=steps * (epoch - 1))
        if step == 1:
            bar.set_description(f"z={latent_dim} epoch {epoch}/{epochs}")
        bar.update(1)
        if step % 25 == 0 or step == steps:
            bar.set_postfix(loss=f"{running_loss:.2f}", refresh=False)

    def close() -> None:
        if bar is not None:
            bar.close()

    on_step.close = close  # type: ignore[attr-defined]
    return on_step


def train_one(args: argparse.Namespace, model_config: ModelConfig, train_config: TrainConfig,
              data: _DataCache) -> store.Checkpoint:
    """Train (or reuse) one config through ``runs.open_run``, with a progress bar unless --quiet."""
    with open_run(checkpoint_root(args), model_config, train_config, force=args.force, report=say) as run:
        if run.cached is not None:
            say(f"{run.name}: cached, reused (pass --force to retrain)")
            return run.cached
        on_step = _progress_bar(model_config.latent_dim, train_config.epochs, args.quiet)
        try:
            checkpoint = run.train(data.split(True), data.split(False), pick_device(args.device), on_step)
        finally:
            if on_step is not None:
                on_step.close()
    say(f"{run.name}: trained, test loss {checkpoint.final['test_loss']:.2f} nats ({checkpoint.train_seconds:.1f} s)")
    return checkpoint


def run_train(args: argparse.Namespace) -> int:
    data = _DataCache(args.dataset, args.data_dir)
    configs = [
        (ModelConfig(latent_dim=latent, hidden_dim=args.hidden_dim, architecture=args.arch),
         TrainConfig(dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                     lr=args.lr, seed=args.seed, beta=args.beta))
        for latent in args.latent_dims
    ]  # all validated before any training starts
    for model_config, train_config in configs:
        try:
            checkpoint = train_one(args, model_config, train_config, data)
        except KeyboardInterrupt:
            name = store.run_name(model_config, train_config)
            say(f"{name}: interrupted, no partial checkpoint was written; {kept_note(checkpoint_root(args), name)}")
            return 130
        if not args.no_projections:
            ensure_projections(checkpoint, data, force=args.force, device=args.device)
    return 0


def ensure_projections(checkpoint: store.Checkpoint, data: _DataCache, force: bool = False,
                       device: str | None = None, tsne_points: int | None = None) -> None:
    """Compute and cache the maps unless cached; ``tsne_points`` given: unless cached with that many."""
    cached = None if force else load_projections(checkpoint)
    if cached is not None and (tsne_points is None
                               or len(cached["tsne_index"]) == min(tsne_points, len(cached["labels"]))):
        return
    test = data.split(False)
    points = min(tsne_points or DEFAULT_TSNE_POINTS, len(test.labels))
    say(f"{checkpoint.name}: PCA of {len(test.labels):,} test means, then t-SNE of {tsne_description(points)}")
    model = store.load_model(checkpoint, pick_device(device))
    arrays = compute_projections(model, test, tsne_points=points, seed=checkpoint.train_config.seed,
                                 report=lambda line: say(f"{checkpoint.name}: {line}"))
    save_projections(checkpoint, arrays)


def checkpoints_of_dataset(args: argparse.Namespace) -> list[store.Checkpoint]:
    """The usable checkpoints of ``--dataset`` under the root; none at all is a one-line error."""
    root = checkpoint_root(args)
    chosen = [c for c in store.scan(root)[0] if c.train_config.dataset == args.dataset]
    if not chosen:
        raise store.CheckpointError(
            f"no {args.dataset} checkpoints in {root}: train some with `vae-explorer train`")
    return chosen


def run_project(args: argparse.Namespace) -> int:
    data = _DataCache(args.dataset, args.data_dir)
    for checkpoint in checkpoints_of_dataset(args):
        ensure_projections(checkpoint, data, force=args.force, device=args.device, tsne_points=args.tsne_points)
    return 0


def summary_row(checkpoint: store.Checkpoint) -> dict:
    final = checkpoint.final
    return {
        "name": checkpoint.name,
        "dataset": checkpoint.train_config.dataset,
        "architecture": checkpoint.model_config.architecture,
        "latent_dim": checkpoint.model_config.latent_dim,
        "beta": checkpoint.train_config.beta,
        "epochs": checkpoint.train_config.epochs,
        "test_loss": round(final["test_loss"], 3),
        "test_recon": round(final["test_recon"], 3),
        "test_kl": round(final["test_kl"], 3),
        "train_seconds": round(checkpoint.train_seconds, 1),
    }


def run_list(args: argparse.Namespace) -> int:
    root = checkpoint_root(args)
    checkpoints, problems = store.scan(root)
    rows = [summary_row(c) for c in checkpoints]
    if args.json:
        print_json({"root": str(root), "checkpoints": rows,
                    "problems": [{"path": str(p.path), "error": p.message} for p in problems]})
        return 0
    if not rows:
        print(f"no checkpoints in {root}: train some with `vae-explorer train`")
    else:
        print(f"{'dataset':<14}{'arch':<6}{'latent':>7}{'beta':>6}{'epochs':>7}{'test loss':>11}{'recon':>9}"
              f"{'KL':>8}{'train s':>9}  name")
        for row in rows:
            print(f"{row['dataset']:<14}{row['architecture']:<6}{row['latent_dim']:>7}{row['beta']:>6g}"
                  f"{row['epochs']:>7}{row['test_loss']:>11.2f}{row['test_recon']:>9.2f}{row['test_kl']:>8.2f}"
                  f"{row['train_seconds']:>9.1f}  {row['name']}")
    for problem in problems:
        say(f"skipped {problem.path.name}: {problem.message}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    root = download(args.dataset, args.data_dir)
    print(f"{args.dataset} is ready in {root}")
    return 0
