"""The training digits on the test set's maps (vae_core.train_points): placed, cached, bounded, and never paired with
a map they were not placed on."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
import torch

from vae_core import store, train_points
from vae_core.data import Split, load_split
from vae_core.headers import HeaderError
from vae_core.projections import load_projections

Z2 = "mnist-z2-h400-e12-b128-lr0.001-s0"
Z10 = "mnist-z10-h400-e12-b128-lr0.001-s0"


def checkpoint_of(root, name) -> store.Checkpoint:
    return next(c for c in store.scan(root)[0] if c.name == name)


def test_pca_places_a_training_mean_exactly_as_the_test_means_are_placed(shipped_root):
    test = load_projections(checkpoint_of(shipped_root, Z10))
    mu = np.asarray(test["mu"], dtype=np.float32)
    # The fit recovers the PCA from the cached float16 means: each test mean lands on its own PCA place.
    again = train_points.linear_fit(mu, test["pca"], mu)
    assert np.abs(again - test["pca"]).max() < 2e-3 * np.abs(test["pca"]).max()


def test_a_training_mean_sits_at_the_weighted_mean_of_its_nearest_test_places():
    test_mu = np.array([[0, 0], [1, 0], [0, 1], [5, 5], [6, 5], [5, 6]], dtype=np.float32)
    test_xy = np.array([[10, 10], [11, 10], [10, 11], [50, 50], [51, 50], [50, 51]], dtype=np.float32)
    train_mu = np.array([[0, 0], [5.2, 5.1]], dtype=np.float32)
    places = train_points.nearest_places(test_mu, test_xy, train_mu, neighbours=3)
    assert np.allclose(places[0], [10, 10], atol=1e-3)  # a mean on a test mean takes its place
    distances = np.linalg.norm(test_mu[3:] - train_mu[1], axis=1)
    weights = (1 / distances) / (1 / distances).sum()
    assert np.allclose(places[1], weights @ test_xy[3:], atol=1e-4)


def test_project_places_the_training_digits_and_the_map_joins_them(shipped_root, mnist_dir, tmp_path):
    shutil.copytree(shipped_root / Z10, tmp_path / Z10, ignore=shutil.ignore_patterns(train_points.TRAIN_POINTS_FILE))
    checkpoint = checkpoint_of(tmp_path, Z10)
    test = load_projections(checkpoint)
    assert not train_points.cached(checkpoint) and train_points.load(checkpoint, test) is None
    full = load_split("mnist", train=True, data_dir=mnist_dir, download=False)
    part = Split(full.images[:3000], full.labels[:3000])  # enough to place, quick to encode
    heard = []
    train_points.ensure(checkpoint, lambda: part, report=heard.append)
    train = train_points.load(checkpoint, test)
    assert train_points.complete(train, test, confidence=False) and len(train["mu"]) == 3000
    assert "confidence" not in train  # no classifier beside this copy
    assert np.array_equal(train["labels"], part.labels.numpy())
    assert {"tsne", "umap", "pca", "nelbo", "kl"} <= set(train) and np.isfinite(train["nelbo"]).all()
    assert any("3,000 training digits placed" in line for line in heard)
    # A training digit's place lies among the test digits of its class: its class is the most common among the
    # test digits nearest its place on the UMAP map, for most training digits.
    near = np.argsort(np.linalg.norm(test["umap"][None, :, :] - train["umap"][:300, None, :], axis=2), axis=1)[:, :10]
    votes = np.array([np.bincount(test["labels"][row], minlength=10).argmax() for row in near])
    assert np.mean(votes == train["labels"][:300]) > 0.8
    joined = train_points.joined(test, train)
    assert len(joined["mu"]) == 13000 and int(joined["train_from"][0]) == 10000
    assert np.array_equal(joined["tsne_index"][-3000:], 10000 + np.arange(3000))
    heard.clear()
    train_points.ensure(checkpoint, lambda: pytest.fail("nothing to compute"), report=heard.append)
    assert heard == []  # complete: quiet, and the split is never loaded


def test_a_map_computed_again_drops_the_places_made_on_the_old_one(shipped_root):
    checkpoint = checkpoint_of(shipped_root, Z2)
    test = load_projections(checkpoint)
    train = train_points.load(checkpoint, test)
    assert train_points.complete(train, test)
    moved = {**test, "umap": test["umap"] + 1}
    stale = train_points.load(checkpoint, moved)
    assert "umap" not in stale and "tsne" in stale and np.array_equal(stale["pca"], train["pca"])
    other = {**test, "mu": test["mu"] + np.float16(0.5)}  # another model's means: nothing of it is used
    assert train_points.load(checkpoint, other) is None


def test_a_file_declaring_more_rows_than_the_training_set_is_refused_before_it_is_read(shipped_root):
    test = load_projections(checkpoint_of(shipped_root, Z2))
    arrays = {"mu": np.zeros((60_001, 2), np.float16), "labels": np.zeros(60_001, np.int8),
              "pca": np.zeros((60_001, 2), np.float32), "pca_explained": np.zeros(2, np.float32),
              "anchors": train_points.test_anchors(test)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    buffer.seek(0)
    with pytest.raises(HeaderError, match="60,000"):
        train_points.read(buffer, 2, test)


def test_the_shipped_models_have_their_training_digits_placed(shipped_root):
    for checkpoint in store.scan(shipped_root)[0]:
        test = load_projections(checkpoint)
        train = train_points.load(checkpoint, test)
        assert train_points.complete(train, test), checkpoint.name
        assert len(train["mu"]) == 60_000 and train["mu"].dtype == np.float16
        assert torch.as_tensor(np.asarray(train["labels"])).bincount().min() > 5000  # every class, MNIST's counts
