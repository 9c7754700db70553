"""`vae-explorer project` and `download`: the maps of the test set per checkpoint (PCA, t-SNE, UMAP), and the data."""

from __future__ import annotations

import argparse

from .. import store
from ..data import download
from ..projections import (
    DEFAULT_TSNE_POINTS,
    add_umap,
    compute_projections,
    has_umap,
    load_projections,
    save_projections,
    tsne_description,
)
from ..train import pick_device
from .common import DataCache, checkpoint_root, say


def ensure_projections(checkpoint: store.Checkpoint, data: DataCache, force: bool = False,
                       device: str | None = None, tsne_points: int | None = None) -> None:
    """Compute and cache the maps unless cached; ``tsne_points`` given: unless cached with that many.

    A file cached before UMAP existed only gains UMAP, mapped from its cached means: no test
    images, no model and no t-SNE again.
    """
    cached = None if force else load_projections(checkpoint)
    if cached is not None and (tsne_points is None
                               or len(cached["tsne_index"]) == min(tsne_points, len(cached["labels"]))):
        if not has_umap(cached):
            say(f"{checkpoint.name}: adding UMAP of the {len(cached['labels']):,} cached test means")
            save_projections(checkpoint, add_umap(cached, checkpoint.train_config.seed,
                                                  report=lambda line: say(f"{checkpoint.name}: {line}")))
        return
    test = data.split(False)
    points = min(tsne_points or DEFAULT_TSNE_POINTS, len(test.labels))
    say(f"{checkpoint.name}: PCA of {len(test.labels):,} test means, then t-SNE of {tsne_description(points)}, "
        "then UMAP of all of them")
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
    data = DataCache(args.dataset, args.data_dir)
    for checkpoint in checkpoints_of_dataset(args):
        ensure_projections(checkpoint, data, force=args.force, device=args.device, tsne_points=args.tsne_points)
    return 0


def run_download(args: argparse.Namespace) -> int:
    root = download(args.dataset, args.data_dir)
    print(f"{args.dataset} is ready in {root}")
    return 0
