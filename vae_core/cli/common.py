"""What the command modules share: messages on stderr, JSON on stdout, the checkpoint root, the data."""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from pathlib import Path


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def checkpoint_root(args: argparse.Namespace) -> Path:
    from ..store import resolve_checkpoint_dir

    return resolve_checkpoint_dir(args.checkpoint_dir)


class DataCache:
    """Loads each split at most once per command, and only if something needs it."""

    def __init__(self, dataset: str, data_dir: str | None):
        self.dataset, self.data_dir = dataset, data_dir

    @cache  # noqa: B019 - one instance per command run
    def split(self, train: bool):
        """The train or test ``data.Split``."""
        from ..data import load_split

        return load_split(self.dataset, train=train, data_dir=self.data_dir)
