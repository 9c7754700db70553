"""`vae-explorer worker`: train the dashboard's queued jobs (the Train page starts one by itself)."""

from __future__ import annotations

import argparse

from ..worker import run_worker
from .common import checkpoint_root


def run_worker_command(args: argparse.Namespace) -> int:
    return run_worker(checkpoint_root(args), count=args.workers, device=args.device, idle_seconds=args.idle)
