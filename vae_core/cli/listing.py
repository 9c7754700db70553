"""`vae-explorer list`: the checkpoints in the directory and the folders skipped, without importing torch
(unless a package registers an architecture: its checkpoints' shapes, and its import, need torch)."""

from __future__ import annotations

import argparse

from .. import architectures, store
from .common import checkpoint_root, print_json, say


def summary_row(checkpoint: store.Checkpoint) -> dict:
    """One checkpoint as `list` shows it; an imported one has no epochs or training time (None)."""
    imported = checkpoint.imported
    return {
        "name": checkpoint.name,
        "dataset": checkpoint.train_config.dataset,
        "architecture": checkpoint.model_config.architecture,
        "latent_dim": checkpoint.model_config.latent_dim,
        "channels": checkpoint.model_config.channels,  # 1 grey, 3 RGB: the images it models, side x side
        "side": checkpoint.model_config.side,
        "beta": checkpoint.train_config.beta,
        "epochs": None if imported else checkpoint.train_config.epochs,
        **{key: None if loss is None else round(loss, 3) for key, loss in store.final_test_losses(checkpoint).items()},
        "train_seconds": None if imported else round(checkpoint.train_seconds, 1),
        "imported": imported,
    }


def _cell(value: float | int | None, width: int, digits: int = 2) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}}" if isinstance(value, int) else f"{value:>{width}.{digits}f}"


def run_list(args: argparse.Namespace) -> int:
    root = checkpoint_root(args)
    checkpoints, problems = store.scan(root)
    rows = [summary_row(c) for c in checkpoints]
    skipped = architectures.problems()
    if args.json:
        print_json({"root": str(root), "checkpoints": rows, "architecture_problems": skipped,
                    "problems": [{"path": str(p.path), "error": p.message} for p in problems]})
        return 0
    for line in skipped:
        say(line)
    if not rows:
        print(f"no checkpoints in {root}: train some with `vae-explorer train`")
    else:
        arch = max([5, *(len(row["architecture"]) for row in rows)]) + 1  # a plugin's name may be longer than 'conv'
        print(f"{'dataset':<14}{'arch':<{arch}}{'latent':>7}{'beta':>6}{'epochs':>7}{'test loss':>11}{'recon':>9}"
              f"{'KL':>8}{'train s':>9}  name")
        for row in rows:
            print(f"{row['dataset']:<14}{row['architecture']:<{arch}}{row['latent_dim']:>7}{row['beta']:>6g}"
                  f"{_cell(row['epochs'], 7)}{_cell(row['test_loss'], 11)}{_cell(row['test_recon'], 9)}"
                  f"{_cell(row['test_kl'], 8)}{_cell(row['train_seconds'], 9, 1)}  {row['name']}"
                  + ("  (imported)" if row["imported"] else ""))
    for problem in problems:
        say(f"skipped {problem.path.name}: {problem.message}")
    return 0
