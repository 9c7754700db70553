"""How long the slow maps take, old settings against new, with the quality of each.

    .venv/bin/python benchmarks/map_speed.py [--model NAME] [--repeats 1] [--candidates] [--fresh]

From the cached float16 means of a shipped checkpoint (no data, no model needed):
- t-SNE of the default 5,000 of them: the old settings (scikit-learn, 1,000 iterations) against
  ``vae_core.projections.tsne_2d`` as it is now;
- UMAP of all 10,000: the old settings (umap-learn's default epochs: 500 at 10,000 points)
  against ``umap_2d`` as it is now. A fit of half the points first pays numba's compile for
  each, so both are timed warm.
Old and new runs alternate in this one process (the machine is shared: only the ratios within
a run mean something). Each line gives wall and CPU seconds and the ratio new / old, then the
trustworthiness of each map (scikit-learn, 10 neighbours: 1 means no false neighbours) and the
share of each point's 10 nearest neighbours in the new map that it had in the old one.

``--candidates`` also times what was tried and not adopted (openTSNE's FFT t-SNE on 2 threads,
and other iteration counts); ``--fresh`` times new processes that import umap and fit it, with
an empty numba cache folder and then with the one that first run filled.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NEIGHBOURS = 10  # for trustworthiness and kNN preservation


def knn(points: np.ndarray) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=NEIGHBOURS + 1).fit(points).kneighbors(points, return_distance=False)[:, 1:]


def kept(a: np.ndarray, b: np.ndarray) -> float:
    """The mean share of each point's neighbours in map ``a`` that are its neighbours in map ``b``."""
    return float(np.mean([len(set(x) & set(y)) / NEIGHBOURS for x, y in zip(knn(a), knn(b), strict=True)]))


def timed(run):
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def old_tsne(points: np.ndarray, iterations: int = 1000) -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(init="pca", learning_rate="auto", perplexity=30.0, random_state=0, max_iter=iterations
                ).fit_transform(points)


def open_tsne(points: np.ndarray, iterations: int = 500) -> np.ndarray:
    from openTSNE import TSNE

    return np.asarray(TSNE(n_jobs=2, random_state=0, negative_gradient_method="fft", n_iter=iterations).fit(points))


def old_umap(points: np.ndarray) -> np.ndarray:
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return umap.UMAP(n_neighbors=15, random_state=0, n_jobs=1).fit_transform(points)


def compare(title: str, points: np.ndarray, old, candidates: dict, repeats: int) -> None:
    """Alternate old and each candidate ``repeats`` times; one line per candidate against old's median."""
    from sklearn.manifold import trustworthiness

    times: dict[str, list[tuple[float, float]]] = {name: [] for name in ["old", *candidates]}
    maps = {}
    for _ in range(repeats):
        for name, run in [("old", old), *candidates.items()]:
            maps[name], wall, cpu = timed(lambda run=run: run(points))
            times[name].append((wall, cpu))
    old_wall, old_cpu = np.median(times["old"], axis=0)
    trust = {name: trustworthiness(points, found, n_neighbors=NEIGHBOURS) for name, found in maps.items()}
    print(f"{title}: old {old_wall:.1f} s wall, {old_cpu:.1f} s CPU, trustworthiness {trust['old']:.4f}", flush=True)
    for name in candidates:
        wall, cpu = np.median(times[name], axis=0)
        print(f"  {name}: {wall:.1f} s wall ({wall / old_wall:.2f}x old), {cpu:.1f} s CPU ({cpu / old_cpu:.2f}x), "
              f"trustworthiness {trust[name]:.4f}, neighbours kept from old {kept(maps[name], maps['old']):.3f}",
              flush=True)


FRESH = """
import sys, time, warnings
import numpy as np
t = time.perf_counter()
sys.path.insert(0, {root!r})
from vae_core.projections import umap_2d
umap_2d(np.load({points!r}))
print(f"{{time.perf_counter() - t:.1f}}")
"""


def fresh_processes(points: np.ndarray) -> None:
    """New processes, each importing umap and mapping ``points``: an empty numba cache, then a filled one."""
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "points.npy"
        np.save(saved, points)
        code = FRESH.format(root=str(ROOT), points=str(saved))
        cache = Path(folder) / "numba"
        for label in ("empty numba cache (first process on a machine)", "filled numba cache (every later one)",
                      "filled numba cache, again"):
            env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONWARNINGS": "ignore"}
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            print(f"  new process, import umap + UMAP of {len(points):,}, {label}: {out.stdout.strip()} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist-z10-h400-e12-b128-lr0.001-s0")
    parser.add_argument("--checkpoint-dir", default=str(ROOT / "checkpoints"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--candidates", action="store_true", help="also time the candidates not adopted")
    parser.add_argument("--fresh", action="store_true", help="also time new processes with and without numba's cache")
    parser.add_argument("--skip", choices=["tsne", "umap"], action="append", default=[])
    args = parser.parse_args()

    from vae_core import store
    from vae_core.projections import load_projections, tsne_2d, tsne_subset, umap_2d

    arrays = load_projections(store.read_checkpoint(Path(args.checkpoint_dir) / args.model))
    if arrays is None:
        raise SystemExit(f"{args.model} has no usable projections.npz: run `vae-explorer project` first")
    means = arrays["mu"].astype(np.float64)
    print(f"{args.model}: {len(means):,} test means of {means.shape[1]} dimensions; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    if "tsne" not in args.skip:
        sample = means[tsne_subset(len(means))]
        candidates = {"new (tsne_2d)": tsne_2d}
        if args.candidates:
            candidates |= {"sklearn 500 iterations": lambda p: old_tsne(p, 500),
                           "openTSNE FFT, 2 threads, 250 + 500 iterations": open_tsne,
                           "openTSNE FFT, 2 threads, 250 + 250 iterations": lambda p: open_tsne(p, 250)}
        compare(f"t-SNE of {len(sample):,}", sample, old_tsne, candidates, args.repeats)
    if "umap" not in args.skip:
        points = means.astype(np.float32)
        for warm_up in (old_umap, umap_2d):  # numba compiles (or loads) each path's kernels here, untimed
            warm_up(points[:5000])  # above 4,096 points, as umap's approximate kNN search needs
        compare(f"UMAP of {len(points):,} (warm)", points, old_umap, {"new (umap_2d)": umap_2d}, args.repeats)
        if args.fresh:
            fresh_processes(points)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
