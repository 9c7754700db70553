"""The per-digit values the Latent map colours by (vae_core.point_stats): computed as the loss convention says,
cached beside the maps, checked when read, added to maps cached before them without recomputing the maps."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vae_core import store
from vae_core.checks import POINT_STATS
from vae_core.classifier import load_classifier
from vae_core.cli import main
from vae_core.data import load_split
from vae_core.point_stats import ensure_point_stats, point_stats
from vae_core.projections import load_projections

Z2 = "mnist-z2-h400-e12-b128-lr0.001-s0"
CONV = "mnist-conv-z2-e12-b128-lr0.001-s0"


def shipped(shipped_root, name: str) -> store.Checkpoint:
    return store.read_checkpoint(shipped_root / name)


def by_hand(model, classifier, x: torch.Tensor) -> dict[str, np.ndarray]:
    """The same three values in plain PyTorch, from the definitions (not through vae_core.losses)."""
    with torch.no_grad():
        mu, logvar = model.encode(x)
        logits = model.decode(mu)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)
        probabilities = torch.softmax(classifier(torch.sigmoid(logits).reshape(-1, 28, 28)), dim=1)
    return {"nelbo": (recon + kl).numpy(), "kl": kl.numpy(), "confidence": probabilities.max(dim=1).values.numpy()}


@pytest.mark.parametrize("name", [Z2, CONV])
def test_the_values_are_the_negative_elbo_at_the_mean_the_kl_and_the_classifiers_top_probability(
        shipped_root, mnist_dir, name):
    test = load_split("mnist", train=False, data_dir=mnist_dir)
    x = test.images[:7]
    model = store.load_model(shipped(shipped_root, name)).eval()
    classifier = load_classifier(shipped_root, "mnist")[0].eval()
    got, want = point_stats(model, x, classifier), by_hand(model, classifier, x)
    assert set(got) == set(POINT_STATS) and all(v.dtype == np.float32 and v.shape == (7,) for v in got.values())
    for key in POINT_STATS:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-3)
    assert (got["nelbo"] > got["kl"]).all() and (got["kl"] > 0).all()
    assert ((got["confidence"] > 0.1) & (got["confidence"] <= 1)).all()
    assert "confidence" not in point_stats(model, x)  # without the classifier: the two ELBO values only
    # The whole test set's mean negative ELBO at z = mu is a little below the sampled test loss the history reports.
    if name == Z2:
        mean = point_stats(model, test.images)["nelbo"].mean()
        final = shipped(shipped_root, name).final["test_loss"]
        assert final - 5 < mean < final, (mean, final)


def test_every_map_at_once_carries_the_values_and_they_survive_a_save(tmp_path, tiny_data):
    from tests.conftest import write_tiny_checkpoint

    train, test = tiny_data
    checkpoint = write_tiny_checkpoint(tmp_path, train, test)
    arrays = load_projections(checkpoint)
    assert {"nelbo", "kl"} <= set(arrays) and "confidence" not in arrays  # no classifier beside a tiny model
    assert arrays["nelbo"].shape == (len(test.labels),) and np.isfinite(arrays["nelbo"]).all()
    again = point_stats(store.load_model(checkpoint), test.images)
    np.testing.assert_allclose(again["nelbo"], arrays["nelbo"], rtol=1e-5)


def copy_of(shipped_root, tmp_path, name: str, keep=("mu", "labels", "pca", "pca_explained", "tsne", "tsne_index",
                                                    "umap")) -> store.Checkpoint:
    """A copy of a shipped checkpoint (with the classifier beside it) whose projections.npz holds only ``keep``."""
    root = tmp_path / "ck"
    shutil.copytree(shipped_root / name, root / name)
    shutil.copytree(shipped_root / "classifier-mnist", root / "classifier-mnist")
    with np.load(root / name / "projections.npz") as archive:
        arrays = {key: archive[key] for key in archive.files if key in keep}
    np.savez_compressed(root / name / "projections.npz", **arrays)
    return store.read_checkpoint(root / name)


def test_project_adds_the_values_to_old_maps_without_recomputing_them(shipped_root, mnist_dir, tmp_path, capsys):
    checkpoint = copy_of(shipped_root, tmp_path, Z2)
    before = load_projections(checkpoint)
    assert not set(POINT_STATS) & set(before)  # as projected before the values existed: it still loads
    assert main(["project", "--dataset", "mnist", "--data-dir", str(mnist_dir),
                 "--checkpoint-dir", str(checkpoint.path.parent)]) == 0
    assert "per-digit nelbo, kl, confidence of 10,000 test digits: " in capsys.readouterr().err
    after = load_projections(checkpoint)
    assert set(POINT_STATS) <= set(after)
    for key in before:  # t-SNE, UMAP and the rest kept bit for bit
        assert after[key].dtype == before[key].dtype and np.array_equal(after[key], before[key]), key
    test = load_split("mnist", train=False, data_dir=mnist_dir)
    model = store.load_model(checkpoint).eval()
    classifier = load_classifier(checkpoint.path.parent, "mnist")[0]
    want = by_hand(model, classifier, test.images[-5:])
    for key in POINT_STATS:
        np.testing.assert_allclose(after[key][-5:], want[key], rtol=1e-4, atol=1e-3)
    stamp = (checkpoint.path / "projections.npz").stat().st_mtime_ns
    ensure_point_stats(checkpoint, lambda: pytest.fail("nothing is missing: no image is read"))
    assert (checkpoint.path / "projections.npz").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("bad", [
    {"nelbo": np.zeros(9, np.float32)},  # the wrong length
    {"kl": np.zeros((10000, 2), np.float32)},  # the wrong shape
    {"nelbo": np.arange(10000).astype(np.int32)},  # not floating point
    {"kl": np.r_[np.full(9999, 1.0), np.nan].astype(np.float32)},  # not finite
    {"confidence": np.full(10000, 1.5, np.float32)},  # not a probability
])
def test_a_damaged_value_array_is_left_out_and_the_maps_still_load(shipped_root, tmp_path, bad):
    checkpoint = copy_of(shipped_root, tmp_path, Z2)
    with np.load(checkpoint.path / "projections.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    good = {key: np.ones(10000, np.float32) * 0.5 for key in POINT_STATS}
    np.savez_compressed(checkpoint.path / "projections.npz", **arrays, **{**good, **bad})
    loaded = load_projections(checkpoint)
    assert loaded is not None and "umap" in loaded and "tsne" in loaded
    assert set(loaded) & set(POINT_STATS) == set(POINT_STATS) - set(bad)
    assert store.cache_problems(checkpoint) == []


def test_a_value_array_declaring_gigabytes_is_one_line_not_a_crash(shipped_root, tmp_path):
    checkpoint = copy_of(shipped_root, tmp_path, Z2)
    with np.load(checkpoint.path / "projections.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    np.savez_compressed(checkpoint.path / "projections.npz", **arrays, nelbo=np.zeros(200_000, np.float64))
    problems = store.cache_problems(checkpoint)
    assert len(problems) == 1 and "nelbo" in problems[0] and "vae-explorer project" in problems[0]
    loaded = load_projections(checkpoint)
    assert loaded is None or "nelbo" not in loaded
