"""`vae-explorer project` and `download`: the maps of the test set per checkpoint (PCA, t-SNE, UMAP) with the values
the Latent map colours by (``point_stats``: added to maps cached before them), the training digits placed on those
maps (``train_points``), and the data."""

from __future__ import annotations

import argparse

from .. import store
from ..data import download
from ..point_stats import ensure_point_stats
from ..runs import DataCache, ensure_projections, to_stderr
from .common import checkpoint_root


def checkpoints_of_dataset(args: argparse.Namespace) -> list[store.Checkpoint]:
    """The usable checkpoints of ``--dataset`` under the root; none at all is a one-line error."""
    root = checkpoint_root(args)
    chosen = [c for c in store.scan(root)[0] if c.train_config.dataset == args.dataset]
    if not chosen:
        raise store.CheckpointError(
            f"no {args.dataset} checkpoints in {root}: train some with `vae-explorer train`")
    return chosen


def run_project(args: argparse.Namespace) -> int:
    data = DataCache(args.dataset, args.data_dir, checkpoint_root(args))  # a registered set: from this root
    for checkpoint in checkpoints_of_dataset(args):
        ensure_projections(checkpoint, data, force=args.force, device=args.device, tsne_points=args.tsne_points,
                           training_digits=args.train_split)
        ensure_point_stats(checkpoint, lambda: data.split(False).images, device=args.device, report=to_stderr)
    return 0


def run_download(args: argparse.Namespace) -> int:
    root = download(args.dataset, args.data_dir)
    print(f"{args.dataset} is ready in {root}")
    return 0
