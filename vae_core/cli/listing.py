"""`vae-explorer list`: the checkpoints in the directory and the folders skipped, without importing torch."""

from __future__ import annotations

import argparse

from .. import store
from .common import checkpoint_root, print_json, say


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
