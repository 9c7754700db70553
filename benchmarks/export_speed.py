"""How long the CSV export of the encoded test set takes (goal: 10,000 rows in under 1 s).

    VAE_DATA_DIR=../shared/data .venv/bin/python benchmarks/export_speed.py [--model NAME] [--runs 5] [--threads 1]

With the model and the test images already in memory (as in the dashboard, and after the CLI
has loaded them), times the three steps of one export: encoding the test set (mu and logvar),
building the CSV bytes (pyarrow), and writing them to a file; prints the median of each over
``--runs`` and their total. The default model is the largest latent size shipped (z = 50:
102 float columns). torch gets ``--threads`` threads (1, as in the dashboard process).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_SECONDS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist-z50-h400-e12-b128-lr0.001-s0")
    parser.add_argument("--checkpoint-dir", default=str(ROOT / "checkpoints"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from vae_core import exports, store
    from vae_core.data import load_split
    from vae_core.projections import load_projections

    torch.set_num_threads(args.threads)
    checkpoint = store.read_checkpoint(store.checkpoint_path(Path(args.checkpoint_dir), args.model))
    model, arrays = store.load_model(checkpoint), load_projections(checkpoint)
    test = load_split(checkpoint.train_config.dataset, train=False, download=False)
    labels = test.labels.numpy()
    steps: dict[str, list[float]] = {"encode": [], "CSV bytes": [], "write file": []}
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "test-set.csv"
        for _ in range(args.runs):
            started = time.perf_counter()
            mu, logvar = exports.encode_test_set(model, test.images)
            encoded = time.perf_counter()
            payload = exports.test_set_csv(mu, logvar, labels, arrays)
            built = time.perf_counter()
            target.write_bytes(payload)
            written = time.perf_counter()
            for name, seconds in zip(steps, (encoded - started, built - encoded, written - built), strict=True):
                steps[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in steps.items()}
    total = sum(medians.values())
    columns = payload.split(b"\n", 1)[0].count(b",") + 1
    print(f"{args.model}: {len(labels):,} rows x {columns} columns, {len(payload) / 1e6:.1f} MB, "
          f"torch threads {args.threads}, median of {args.runs}")
    for name, seconds in medians.items():
        print(f"  {name:<11} {seconds:.3f} s")
    verdict = "meets" if total < GOAL_SECONDS else "misses"
    print(f"  {'total':<11} {total:.3f} s ({verdict} the {GOAL_SECONDS:g} s goal)")


if __name__ == "__main__":
    main()
