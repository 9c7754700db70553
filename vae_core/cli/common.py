"""What the command modules share: messages on stderr, JSON on stdout, the checkpoint root (torch-free)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def checkpoint_root(args: argparse.Namespace) -> Path:
    from ..store import resolve_checkpoint_dir

    return resolve_checkpoint_dir(args.checkpoint_dir)
