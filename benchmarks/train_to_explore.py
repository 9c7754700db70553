"""From a queued job to a model that can be explored, then to every map, then to its metrics.

    VAE_DATA_DIR=../shared/data .venv/bin/python benchmarks/train_to_explore.py [--epochs 12]

Three z = 2 MLP runs on real MNIST, one after another, each in a fresh checkpoint folder that
holds only the shipped classifier (so metrics can be computed):

1. **fresh**: a job queued and a new `vae-explorer worker` started for it (a new process: its
   imports, the data, numba from its on-disk cache);
2. **warm**: a second job (seed 1) queued behind the first, so the same worker takes it (numba,
   the data and the evaluation reference are warm);
3. **before**: the pipeline as it was, in a new process: train, then PCA, t-SNE (scikit-learn,
   1,000 iterations) and UMAP (umap-learn's defaults, numba compiling into an empty cache),
   saved together at the end, so nothing was explorable before the last map.

For each run it prints the training time (the history's epochs) and, from the moment the job
was claimed (the process start, for **before**): (a) the model explorable (its quick maps
saved), (b) every map cached (t-SNE and UMAP in projections.npz), (c) metrics cached, each also as
"training + N s". Then the
Train page's estimate for each job, made before it was queued, against its real time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEFORE = """
import json, sys, time
started = time.time()
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, {benchmarks!r})
from map_speed import old_tsne, old_umap
from vae_core import store
from vae_core.config import ModelConfig, TrainConfig
from vae_core.projections import quick_maps, save_projections, tsne_subset
from vae_core.runs import DataCache, open_run
model_config, train_config = ModelConfig(latent_dim=2), TrainConfig(epochs={epochs}, seed=2)
data = DataCache("mnist", None)
with open_run(Path({root!r}), model_config, train_config) as run:
    checkpoint = run.train(data.split(True), data.split(False), torch.device("cpu"))
arrays = quick_maps(store.load_model(checkpoint), data.split(False))
mu = np.asarray(arrays["mu"], dtype=np.float64)
subset = tsne_subset(len(mu))
arrays |= {{"tsne": old_tsne(mu[subset]).astype(np.float32), "tsne_index": subset,
            "umap": old_umap(mu.astype(np.float32)).astype(np.float32)}}
save_projections(checkpoint, arrays)
print(json.dumps({{"started": started, "maps": time.time(), "train": checkpoint.train_seconds}}))
"""


def fresh_root(parent: Path, name: str) -> Path:
    """A checkpoint folder holding only the shipped MNIST classifier."""
    root = parent / name
    shutil.copytree(ROOT / "checkpoints" / "classifier-mnist", root / "classifier-mnist")
    return root


def estimate(root: Path, model_config, train_config) -> float | None:
    """The Train page's estimate: training from the epochs of the models it would list (the shipped ones and any
    trained here), maps and metrics from this root's timings, for a worker warm when one is alive now."""
    from dashboard.train.form import maps_seconds, seconds_per_epoch
    from vae_core import store
    from vae_core.worker import live_slots

    listed = store.scan(ROOT / "checkpoints")[0] + store.scan(root)[0]
    per_epoch, _ = seconds_per_epoch(listed, model_config, train_config)
    after, timed = maps_seconds(root, bool(live_slots(root)))
    return per_epoch * train_config.epochs + after if timed else None


def every_map(folder: Path) -> bool:
    """Whether the model's projections.npz holds t-SNE and UMAP (its zip directory, read without the arrays)."""
    import zipfile

    from vae_core import store

    try:
        with zipfile.ZipFile(folder / store.PROJECTIONS_FILE) as archive:
            return {"tsne.npy", "umap.npy"} <= set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def watch(root: Path, queue, job_id: int, timeout_s: float = 1800) -> dict:
    """Poll until the job ends; when (a) the quick maps, (b) every map and (c) the metrics appeared, epoch time."""
    from vae_core import store

    seen: dict[str, float] = {}
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        job = queue.job(job_id)
        now = time.time()
        folder = root / job.name
        if "explorable" not in seen and (folder / store.PROJECTIONS_FILE).exists():
            seen["explorable"] = now
        if "maps" not in seen and (every_map(folder) or job.phase == "metrics" or job.status == "done"):
            seen["maps"] = now
        if job.status in ("done", "failed", "cancelled"):
            seen["metrics"] = now
            seen["job"] = job
            return seen
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} did not finish in {timeout_s} s")


def line(name: str, start: float, train: float, moments: dict[str, float]) -> str:
    parts = [f"{name:>6}: training {train:5.1f} s"]
    for key, label in (("explorable", "(a) explorable"), ("maps", "(b) every map"), ("metrics", "(c) metrics")):
        if key in moments:
            seconds = moments[key] - start
            parts.append(f"{label} {seconds:5.1f} s = training + {seconds - train:4.1f} s")
    return " | ".join(parts)


def queued_runs(parent: Path, epochs: int) -> list[str]:
    """The fresh and the warm job, in one worker; returns their report lines."""
    from vae_core.config import ModelConfig, TrainConfig
    from vae_core.data import resolve_data_dir
    from vae_core.jobs import JobQueue

    root = fresh_root(parent, "queued")
    queue = JobQueue(root)
    configs = [(ModelConfig(latent_dim=2), TrainConfig(epochs=epochs, seed=seed)) for seed in (0, 1)]
    estimates = [estimate(root, *configs[0])]
    first, _ = queue.submit(*configs[0], str(resolve_data_dir().resolve()))
    second, _ = queue.submit(*configs[1], str(resolve_data_dir().resolve()))
    with open(parent / "worker.log", "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(root)],
                                  stdout=log, stderr=subprocess.STDOUT)
    spawned = time.time()
    fresh = watch(root, queue, first.id)
    estimates.append(estimate(root, *configs[1]))  # the fresh job's map timings are stored by now
    warm = watch(root, queue, second.id)
    worker.wait(timeout=60)
    lines = []
    for name, start, moments, guess in (("fresh", spawned, fresh, estimates[0]),
                                        ("warm", warm["job"].started_at, warm, estimates[1])):
        job = moments["job"]
        train = sum(row["seconds"] for row in job.history)
        lines.append(line(name, start, train, moments) + f" | job {job.status}: {job.message[-60:]}")
        real = moments["metrics"] - start
        lines.append(f"        estimate {'none (no map timings here yet)' if guess is None else f'{guess:.1f} s'}"
                     f" against {real:.1f} s"
                     + ("" if guess is None else f": error {100 * (guess - real) / real:+.0f} %"))
    return lines


def before_run(parent: Path, epochs: int) -> str:
    """The old pipeline in a new process, numba compiling into an empty cache."""
    root = fresh_root(parent, "before")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(parent / "empty-numba-cache")}
    script = BEFORE.format(benchmarks=str(ROOT / "benchmarks"), epochs=epochs, root=str(root))
    spawned = time.time()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return line("before", spawned, result["train"], {"explorable": result["maps"], "maps": result["maps"]}) \
        + " (no metrics: the old worker computed none)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        lines = queued_runs(Path(folder), args.epochs) + [before_run(Path(folder), args.epochs)]
    print("\n".join(lines))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
