"""Shared fixtures: tiny synthetic data and checkpoints, real MNIST when present.

A prerequisite that is missing (MNIST, chromium) skips a test on a laptop but fails
it under CI=true, where it must always be there.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_core import store
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import Split, data_available, resolve_data_dir
from vae_core.projections import compute_projections, save_projections
from vae_core.train import history_as_dicts, train_vae

TINY_MODEL = ModelConfig(latent_dim=2, hidden_dim=16)
TINY_TRAIN = TrainConfig(epochs=2, batch_size=32, seed=0)


def missing_prerequisite(reason: str) -> None:
    """Skip on a user's machine; fail under CI, which always has the prerequisite."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def wait_for(condition, timeout_s: float, what: str, interval_s: float = 0.05):
    """Poll ``condition()`` until it returns something truthy, and return that; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def synthetic_split(n: int, seed: int) -> Split:
    """n blurry 'digits': label k lights up row band k, plus noise. images [n, 784] in [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = torch.rand(n, 28, 28, generator=generator) * 0.2
    for k in range(10):
        images[labels == k, 2 + 2 * k:5 + 2 * k, 4:24] = 0.9
    return Split(images.reshape(n, 784), labels)


@pytest.fixture(scope="session")
def tiny_data() -> tuple[Split, Split]:
    return synthetic_split(256, seed=1), synthetic_split(200, seed=2)


def write_tiny_checkpoint(root: Path, train: Split, test: Split, latent_dim: int = 2,
                          with_projections: bool = True, architecture: str = "mlp", beta: float = 1.0,
                          dataset: str = "mnist") -> store.Checkpoint:
    model_config = ModelConfig(latent_dim=latent_dim, hidden_dim=16, architecture=architecture)
    train_config = dataclasses.replace(TINY_TRAIN, beta=beta, dataset=dataset)
    state = train_vae(model_config, train_config, train, test, device=torch.device("cpu"))
    checkpoint = store.save_checkpoint(root, state.model, train_config, history_as_dicts(state.history))
    if with_projections:
        # No UMAP: numba's compile costs seconds per process; tests that need a UMAP map add one.
        save_projections(checkpoint, compute_projections(state.model, test, tsne_points=100, umap=False))
    return checkpoint


@pytest.fixture(scope="session")
def tiny_checkpoint_root(tmp_path_factory, tiny_data) -> Path:
    """A checkpoint root with tiny z=2 and z=3 models and their projections (read-only use)."""
    root = tmp_path_factory.mktemp("tiny-checkpoints")
    for latent_dim in (2, 3):
        write_tiny_checkpoint(root, *tiny_data, latent_dim=latent_dim)
    return root


def _write_idx(path: Path, array: np.ndarray) -> None:
    magic = 0x0803 if array.ndim == 3 else 0x0801
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_fake_mnist(root: Path, n_train: int = 256, n_test: int = 200) -> Path:
    """MNIST-format files (torchvision's raw layout) holding synthetic digits."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, split in (("train", synthetic_split(n_train, 1)), ("t10k", synthetic_split(n_test, 2))):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", (split.images * 255).reshape(-1, 28, 28).numpy())
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", split.labels.numpy())
    return root


@pytest.fixture
def fake_mnist_dir(tmp_path) -> Path:
    return write_fake_mnist(tmp_path / "data")


@pytest.fixture
def empty_data(tmp_path, monkeypatch) -> Path:
    """A data directory with no dataset in it (for pages and commands that must say so).

    VAE_OFFLINE=1 (inherited by subprocesses) makes a download impossible, so "no data" holds on a
    machine with internet too, instead of downloading MNIST there.
    """
    monkeypatch.setenv("VAE_OFFLINE", "1")
    (tmp_path / "no-data").mkdir()
    return tmp_path / "no-data"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST root ($VAE_DATA_DIR); missing is a skip locally, a failure in CI."""
    root = resolve_data_dir()
    if not data_available("mnist", root):
        missing_prerequisite(f"real MNIST not found in {root}: set VAE_DATA_DIR")
    return root


@pytest.fixture(scope="session")
def shipped_root() -> Path:
    return Path(__file__).resolve().parent.parent / "checkpoints"


@pytest.fixture(scope="session")
def browser_support():
    """tests/browser_support, once chromium is known to be installed (a failure under CI=true, else a skip)."""
    if not shutil.which("chromium") and not Path("/usr/bin/chromium").exists():
        missing_prerequisite("chromium is not installed (apt-get install chromium)")
    from tests import browser_support as support

    return support


@pytest.fixture
def install_plugins(tmp_path, monkeypatch):
    """A function (entries) -> folder: registers tests/plugin_arch's architectures through a real entry point
    (a dist-info in ``folder``, put on sys.path) for this test; the registry forgets them afterwards."""
    from tests import plugin_arch
    from vae_core.models import registry

    def install(entries: dict[str, str] = plugin_arch.GOOD) -> Path:
        folder = plugin_arch.install(tmp_path / "site", entries)
        monkeypatch.syspath_prepend(str(folder))
        registry.refresh()
        return folder

    yield install
    registry.refresh()


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """tests/plugin_arch's architectures (``plugin_arch.GOOD``: two chains, one decoder with a skip) registered for
    a whole module: the folder holding their dist-info, put on sys.path (``plugin_arch.environment`` for a
    subprocess)."""
    from tests import plugin_arch
    from vae_core.models import registry

    folder = plugin_arch.install(tmp_path_factory.mktemp("site"), plugin_arch.GOOD)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        registry.refresh()
        yield folder
    registry.refresh()
