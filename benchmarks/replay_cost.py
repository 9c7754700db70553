"""What recording the training replay costs an epoch (issue 19's goal: at most 3 %).

    python benchmarks/replay_cost.py [--latent-dims 2 20] [--epochs 2] [--threads 2] [--arch mlp]

Trains each model on real MNIST ($VAE_DATA_DIR) for ``--epochs`` epochs and, after each one, times
``ReplayRecorder.record`` (2,000 test means projected to 2-D, 64 decoded prior draws) against that
epoch's own seconds (training and the full test pass, as history.json records them); also the
epoch 0 recording, saving replay.npz and its size. The machine is shared: its load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dims", type=int, nargs="+", default=[2, 20])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--arch", default="mlp", choices=["mlp", "conv"])
    args = parser.parse_args()

    import torch

    from vae_core.config import ModelConfig, TrainConfig
    from vae_core.data import load_split
    from vae_core.replay import ReplayRecorder
    from vae_core.train import new_training_state, train_vae

    torch.set_num_threads(args.threads)
    train, test = load_split("mnist", train=True), load_split("mnist", train=False)
    print(f"torch {torch.__version__}, {args.threads} threads, load average {os.getloadavg()[0]:.2f}")
    for latent_dim in args.latent_dims:
        model_config = ModelConfig(latent_dim=latent_dim, architecture=args.arch)
        train_config = TrainConfig(epochs=args.epochs)
        recorder = ReplayRecorder.for_run(model_config, train_config, test)
        state = new_training_state(model_config, train_config, torch.device("cpu"))
        started = time.perf_counter()
        recorder.record(state.model, 0)
        costs = [time.perf_counter() - started]

        def on_epoch(state, recorder=recorder, costs=costs) -> None:
            started = time.perf_counter()
            recorder.record(state.model, state.epochs_done)
            costs.append(time.perf_counter() - started)

        state = train_vae(model_config, train_config, train, test, torch.device("cpu"), state, on_epoch=on_epoch)
        epoch_seconds = [row.seconds for row in state.history]
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            file = recorder.save(Path(folder))
            save_s, size = time.perf_counter() - started, file.stat().st_size
        share = [cost / seconds for cost, seconds in zip(costs[1:], epoch_seconds, strict=True)]
        print(f"{args.arch} z = {latent_dim}: epochs {', '.join(f'{s:.2f}' for s in epoch_seconds)} s; "
              f"record epoch 0 {costs[0] * 1000:.0f} ms, epochs 1-{args.epochs} "
              f"{', '.join(f'{c * 1000:.0f}' for c in costs[1:])} ms = median {statistics.median(share):.2%} "
              f"(max {max(share):.2%}) of an epoch; save {save_s * 1000:.0f} ms, replay.npz {size / 1024:.0f} KiB "
              f"for {recorder.epochs_recorded} epochs")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
