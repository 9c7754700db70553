"""t-SNE in a second process, so that UMAP can run in this one at the same time.

UMAP (seeded, hence single-threaded) leaves one of two cores idle, and both are numba or Cython
loops that hold the GIL between short calls, so two threads would take turns. A child process
started with ``spawn`` imports only numpy and scikit-learn (about a second), maps the points it is
given and writes the result; the parent meanwhile runs UMAP with its numba kernels already warm.

    with TsneProcess(points, seed) as pending:   # points [M, D] float64
        ...                                      # UMAP here
        coordinates = pending.result()           # [M, 2] float64, as tsne_2d(points, seed) gives
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .defaults import TSNE_ANGLE, TSNE_ITERATIONS, TSNE_PERPLEXITY

STDERR_TAIL = 500  # characters of a failed child's error line kept for the message


def tsne_2d(points: np.ndarray, seed: int = 0, progress: Callable[[float], None] | None = None) -> np.ndarray:
    """points [M, D] -> t-SNE coordinates [M, 2] (sklearn, PCA init, the settings in ``defaults``).

    sklearn reports no progress while it optimises: ``progress`` hears 0 when it starts and 1 when it is done.
    """
    from sklearn.manifold import TSNE

    if progress is not None:
        progress(0.0)
    tsne = TSNE(n_components=2, init="pca", learning_rate="auto", perplexity=TSNE_PERPLEXITY, angle=TSNE_ANGLE,
                random_state=seed)
    iterations = "max_iter" if "max_iter" in tsne.get_params() else "n_iter"  # renamed in scikit-learn 1.5
    coordinates = tsne.set_params(**{iterations: TSNE_ITERATIONS}).fit_transform(points)
    if progress is not None:
        progress(1.0)
    return coordinates


class TsneProcess:
    """A child process computing ``tsne_2d(points, seed)``; killed if left unfinished."""

    def __init__(self, points: np.ndarray, seed: int):
        self.folder = Path(tempfile.mkdtemp(prefix="vae-tsne-"))
        np.save(self.folder / "points.npy", np.asarray(points, dtype=np.float64))
        self.process = subprocess.Popen([sys.executable, "-m", "vae_core.tsne_process", str(self.folder), str(seed)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def __enter__(self) -> TsneProcess:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:  # an error or Ctrl-C in the parent: the child goes too
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def result(self) -> np.ndarray:
        """Wait for the child: its t-SNE coordinates [M, 2]; ``RuntimeError`` (one line: its error) if it failed."""
        _, error = self.process.communicate()
        if self.process.returncode != 0:
            lines = error.decode("utf-8", "replace").strip().splitlines() or ["(it said nothing)"]
            raise RuntimeError(f"the t-SNE process exited with status {self.process.returncode}: "
                               f"{lines[-1][:STDERR_TAIL]}")  # the exception's own line, not the traceback
        return np.load(self.folder / "tsne.npy")


def _child(folder: Path, seed: int) -> None:
    np.save(folder / "tsne.npy", tsne_2d(np.load(folder / "points.npy"), seed))


if __name__ == "__main__":
    _child(Path(sys.argv[1]), int(sys.argv[2]))
