"""`vae-explorer data add` of an image folder of 10,000 28 x 28 PNGs, against the 15 s goal.

    VAE_DATA_DIR=../shared/data .venv/bin/python benchmarks/data_add.py [--runs 3] [--size 28]

Writes the MNIST test set ($VAE_DATA_DIR) as 10,000 PNG files, one subfolder per digit, into a
temporary folder, then registers it ``--runs`` times in this process (``user_data.register``, what
`data add` calls, into a fresh checkpoint root each time) and once as a fresh `vae-explorer data add`
process (interpreter start and imports included). Prints the seconds of each step (read: list,
decode and resize every file; split; write the compressed arrays) and the ratio of the total to the
goal. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 15.0


def write_pngs(folder: Path) -> int:
    """The MNIST test set as FOLDER/<digit>/<index>.png; returns how many were written."""
    import numpy as np
    from PIL import Image

    from vae_core.data import load_split

    split = load_split("mnist", train=False, download=False)
    images = np.rint(split.images.numpy() * 255).astype(np.uint8).reshape(-1, 28, 28)
    for index, (image, label) in enumerate(zip(images, split.labels.tolist(), strict=True)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / str(label) / f"{index:05d}.png")
    return len(images)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=28, help="--size of data add (default 28: no resizing)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from vae_core import user_data

    print(f"load average: {os.getloadavg()[0]:.2f}, cores: {os.cpu_count()}, one process, no worker pool")
    with tempfile.TemporaryDirectory(prefix="data-add-") as temporary:
        folder = Path(temporary) / "mnist-test-pngs"
        started = time.perf_counter()
        count = write_pngs(folder)
        size_mb = sum(f.stat().st_size for f in folder.rglob("*.png")) / 1e6
        print(f"wrote {count:,} PNGs ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f} s")
        totals = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            info, seconds = user_data.register(Path(temporary) / f"root-{run}", "mnist-pngs", folder, side=args.size)
            totals.append(time.perf_counter() - started)
            steps = ", ".join(f"{step} {value:.2f} s" for step, value in seconds.items())
            print(f"run {run}: {steps}; total {totals[-1]:.2f} s = {totals[-1] / GOAL_S:.2f} x the {GOAL_S:g} s goal "
                  f"({info.train_count:,} train + {info.test_count:,} test, {info.side} x {info.side} {info.colour})")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vae_core", "data", "add", "mnist-pngs", str(folder), "--size",
                        str(args.size), "--checkpoint-dir", str(Path(temporary) / "root-process")],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        process = time.perf_counter() - started
    median = statistics.median(totals)
    verdict = "meets" if max(median, process) <= GOAL_S else "MISSES"
    print(f"in process: median {median:.2f} s of {args.runs} = {median / GOAL_S:.2f} x the goal; as a fresh "
          f"`vae-explorer data add` process: {process:.2f} s = {process / GOAL_S:.2f} x; {verdict} the "
          f"{GOAL_S:g} s goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
