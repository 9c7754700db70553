"""Training from the dashboard's queue against `vae-explorer train`, the same config, in one run.

    VAE_DATA_DIR=../shared/data .venv/bin/python benchmarks/train_from_dashboard.py [--rounds 2] [--epochs 3]

Each round trains the same config twice, in fresh checkpoint folders: once with the CLI
(`vae-explorer train --no-projections --quiet`) and once the way the Train page does it (a job
in the queue, then the `vae-explorer worker` process the page starts). Both run as fresh
processes with the same thread settings; the order alternates between rounds so machine load
hits both alike. It prints the epoch times of each (from history.json: the training loop
and the test pass, what the page's speed is about) and the process wall time, and the
ratio worker / CLI of the medians. The goal is a ratio within 10 % of 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vae_core.config import ModelConfig, TrainConfig  # noqa: E402
from vae_core.data import resolve_data_dir  # noqa: E402
from vae_core.jobs import JobQueue  # noqa: E402


def epoch_seconds(root: Path) -> list[float]:
    (history,) = root.glob("*/history.json")
    return [row["seconds"] for row in json.loads(history.read_text())]


def run_cli(root: Path, model: ModelConfig, train: TrainConfig) -> float:
    command = [sys.executable, "-m", "vae_core", "train", "--checkpoint-dir", str(root), "--latent-dims",
               str(model.latent_dim), "--hidden-dim", str(model.hidden_dim), "--epochs", str(train.epochs),
               "--batch-size", str(train.batch_size), "--seed", str(train.seed), "--no-projections", "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_worker(root: Path, model: ModelConfig, train: TrainConfig) -> float:
    queue = JobQueue(root)
    job, _ = queue.submit(model, train, str(resolve_data_dir().resolve()), maps=False)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(root)], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    finished = queue.job(job.id)
    if finished.status != "done":
        raise SystemExit(f"the worker's job ended {finished.status}: {finished.message}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--latent", type=int, default=10)
    args = parser.parse_args()
    model, train = ModelConfig(latent_dim=args.latent), TrainConfig(epochs=args.epochs)
    epochs: dict[str, list[float]] = {"cli": [], "worker": []}
    walls: dict[str, list[float]] = {"cli": [], "worker": []}
    runners = {"cli": run_cli, "worker": run_worker}
    for round_number in range(args.rounds):
        order = ("cli", "worker") if round_number % 2 == 0 else ("worker", "cli")
        for name in order:
            with tempfile.TemporaryDirectory() as folder:
                walls[name].append(runners[name](Path(folder), model, train))
                epochs[name].extend(epoch_seconds(Path(folder)))
    print(f"MLP z = {args.latent}, h{model.hidden_dim}, {args.epochs} epochs, batch {train.batch_size}, "
          f"{args.rounds} rounds (alternating order), data in {resolve_data_dir()}")
    for name, label in (("cli", "vae-explorer train"), ("worker", "Train page's worker")):
        print(f"  {label:22s} epoch: mean {statistics.mean(epochs[name]):6.2f} s  median "
              f"{statistics.median(epochs[name]):6.2f} s   process wall: median "
              f"{statistics.median(walls[name]):6.2f} s")
    # Medians: one epoch slowed by another process on a shared machine would swing a mean.
    ratio = statistics.median(epochs["worker"]) / statistics.median(epochs["cli"])
    wall_ratio = statistics.median(walls["worker"]) / statistics.median(walls["cli"])
    verdict = "meets" if abs(ratio - 1) <= 0.10 else "misses"
    print(f"  ratio worker / CLI of the medians: epoch time {ratio:.3f}, process wall {wall_ratio:.3f}   "
          f"goal within 10 %: {verdict} the goal")


if __name__ == "__main__":
    main()
