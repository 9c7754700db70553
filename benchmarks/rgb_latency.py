"""Live decoding of an RGB 32 x 32 conv decoder on the Latent explorer, measured from outside the page as
benchmarks/browser_latency.py measures MNIST's, with MNIST's conv VAE at z = 20 as the reference in the same run.

    python benchmarks/rgb_latency.py [--checkpoint-dir checkpoints] [--latent-dim 16] [--presses 30] [--hovers 30]

Writes a temporary checkpoint root: scikit-learn's digit scans tinted into RGB and registered at 32 x 32
(tests/rgb_support.py), an RGB conv VAE of them at ``--latent-dim`` (briefly trained: the decoder's cost is what is
measured, not its pictures), and a copy of the shipped MNIST conv VAE at z = 20 from ``--checkpoint-dir``. Then runs
`streamlit run` on it and drives Debian's chromium: per model, key press (ArrowRight / ArrowLeft on the focused
slider) -> new pixels p50 / p95, a drag's new pictures, and pointer over the plane -> new picture, each read as a
fingerprint of the whole picture (every channel, the canvas' own size) for both models. Prints the RGB / MNIST ratio
of the key press p95 and whether the RGB p95 is at most 50 ms. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.browser_latency import (  # noqa: E402
    DRAG_SECONDS,
    LATENCY_GOAL_MS,
    PICTURE_HASH_JS,
    measure,
    verdict,
)
from tests.browser_support import dashboard_in_chromium, percentiles  # noqa: E402

MNIST_CONV = "mnist-conv-z20-e12-b128-lr0.001-s0"


def write_root(root: Path, shipped: Path, latent_dim: int) -> dict[str, str]:
    """The RGB conv VAE and the MNIST reference in ``root``: {"rgb": sidebar label, "mnist": sidebar label}."""
    from dashboard.shell.tables import model_label
    from tests.rgb_support import register_tinted, write_rgb_checkpoint
    from vae_core import store

    if not (shipped / MNIST_CONV / "model.safetensors").exists():
        raise SystemExit(f"the reference {MNIST_CONV} is not in {shipped}")
    shutil.copytree(shipped / MNIST_CONV, root / MNIST_CONV)
    with tempfile.TemporaryDirectory() as folder:
        register_tinted(root, "tinted32", 32, Path(folder) / "tinted32")
    rgb = write_rgb_checkpoint(root, "tinted32", "conv", latent_dim, 32)
    checkpoints, problems = store.scan(root)
    if problems:
        raise SystemExit(f"problems in the temporary root: {problems}")
    label = {c.name: model_label(c, [s for s in checkpoints if s.train_config.dataset == c.train_config.dataset])
             for c in checkpoints}
    return {"rgb": label[rgb.name], "mnist": label[MNIST_CONV]}


def report(title: str, live: dict) -> None:
    print(f"\n{title}")
    print(f"  drag {DRAG_SECONDS:.0f} s, new pictures seen: {live['seen']:4d} in {live['looks']} looks; the page drew "
          f"a new picture in {live['drawn']} of {live['frames']} animation frames")
    print(f"  key press -> new pixels:               {percentiles(live['keys'])}")
    print(f"  key press -> server's caption:         {percentiles(live['heard'])}   (Python hears it)")
    print(f"  pointer over the plane -> new picture: {percentiles(live['hover'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint-dir", type=Path, default=ROOT / "checkpoints", help="holds " + MNIST_CONV)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--hovers", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        labels = write_root(root, args.checkpoint_dir.resolve(), args.latent_dim)
        with dashboard_in_chromium(root) as (url, browser):
            results = {}
            for kind in ("mnist", "rgb"):  # the reference first, then the RGB model, in the same server and browser
                results[kind] = measure(browser, url, labels[kind], args.presses, args.hovers, PICTURE_HASH_JS)
            report(f"MNIST conv, z = 20, grey 28 x 28 ({labels['mnist']}): the reference", results["mnist"])
            report(f"RGB conv, z = {args.latent_dim}, 3 x 32 x 32 ({labels['rgb']})", results["rgb"])
            p95 = {kind: float(np.percentile(results[kind]["keys"], 95)) * 1000 for kind in results}
            print(f"\nkey press -> new pixels, p95: RGB {p95['rgb']:.1f} ms / MNIST {p95['mnist']:.1f} ms = "
                  f"{p95['rgb'] / p95['mnist']:.2f}x")
            print(f"RGB 32 x 32 conv p95 <= {LATENCY_GOAL_MS:.0f} ms: {verdict(p95['rgb'] <= LATENCY_GOAL_MS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
