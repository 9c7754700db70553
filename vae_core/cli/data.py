"""`vae-explorer data add` and `data list`: register an image folder or .npz as a data set, and list them (no torch)."""

from __future__ import annotations

import argparse

from .. import user_data
from .common import checkpoint_root, print_json, say


def run_data_add(args: argparse.Namespace) -> int:
    root = checkpoint_root(args)
    info, seconds = user_data.register(root, args.name, args.path, side=args.size, colour=args.colour,
                                       test_fraction=args.test_fraction, seed=args.seed, replace=args.replace)
    classes = ", ".join(info.class_names)
    print(f"registered {info.name} in {user_data.datasets_folder(root) / info.name}: {info.train_count:,} train and "
          f"{info.test_count:,} test images (stratified, seed {info.seed}), {info.side} x {info.side} {info.colour}, "
          f"{len(info.class_names)} classes: {classes}")
    print("  " + ", ".join(f"{step} {value:.2f} s" for step, value in seconds.items())
          + f" (total {sum(seconds.values()):.2f} s)")
    print(f"  train on it: vae-explorer train --dataset {info.name}" + (
        "" if info.side % 4 == 0 else f" (the MLP: --arch conv needs a side divisible by 4, not {info.side})"))
    if args.replace:
        say(f"{info.name}: models trained on the set it replaced keep their names; `train` reuses them unless --force")
    return 0


def summary_row(info: user_data.DatasetInfo) -> dict:
    """One registered data set as `data list` shows it."""
    return {"name": info.name, "train": info.train_count, "test": info.test_count, "side": info.side,
            "channels": info.channels, "classes": list(info.class_names), "source": info.source,
            "fingerprint": info.fingerprint}


def run_data_list(args: argparse.Namespace) -> int:
    root = checkpoint_root(args)
    infos, problems = user_data.list_datasets(root)
    if args.json:
        print_json({"root": str(user_data.datasets_folder(root)), "datasets": [summary_row(i) for i in infos],
                    "problems": [{"name": name, "error": message} for name, message in problems]})
        return 0
    if not infos:
        print(f"no data sets registered in {user_data.datasets_folder(root)}: add one with "
              "`vae-explorer data add NAME PATH`")
    else:
        width = max(4, *(len(info.name) for info in infos)) + 2
        print(f"{'name':<{width}}{'train':>8}{'test':>8}{'size':>7}  {'colour':<7}{'classes':>8}  source")
        for info in infos:
            print(f"{info.name:<{width}}{info.train_count:>8,}{info.test_count:>8,}{info.side:>7}  {info.colour:<7}"
                  f"{len(info.class_names):>8}  {info.source}")
    for name, message in problems:
        say(f"skipped {name}: {message}")
    return 0
