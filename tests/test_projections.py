"""The staged maps: PCA at once, t-SNE and UMAP added later from the cached means."""

import numpy as np
import pytest
import torch

from tests.conftest import write_tiny_checkpoint
from vae_core import projections, store
from vae_core.models import build_model
from vae_core.point_stats import point_stats
from vae_core.projections import (
    add_tsne,
    compute_projections,
    has_tsne,
    has_umap,
    load_projections,
    quick_maps,
    save_projections,
)

QUICK = {"mu", "labels", "pca", "pca_explained"}


@pytest.fixture
def checkpoint(tmp_path, tiny_data):
    return write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)


@pytest.fixture
def model(checkpoint):
    return store.load_model(checkpoint)


def test_quick_maps_hold_the_means_and_pca_only(model, tiny_data):
    arrays = quick_maps(model, tiny_data[1])
    assert set(arrays) == QUICK and not has_tsne(arrays) and not has_umap(arrays)
    assert arrays["mu"].shape == (200, 2) and arrays["mu"].dtype == np.float16
    assert arrays["labels"].tolist() == tiny_data[1].labels.tolist()
    assert arrays["pca"].shape == (200, 2) and arrays["pca"].dtype == np.float32
    assert arrays["pca_explained"].shape == (2,) and 0.99 < arrays["pca_explained"].sum() <= 1.0 + 1e-6


def test_pca_is_sklearns_pca():
    from sklearn.decomposition import PCA

    points = np.random.default_rng(0).normal(size=(300, 6)) * np.arange(1, 7)
    coordinates, explained = projections.pca_2d(points)
    reference = PCA(n_components=2).fit(points)
    assert np.allclose(explained, reference.explained_variance_ratio_)
    assert np.allclose(np.abs(coordinates), np.abs(reference.transform(points)), atol=1e-8)
    assert np.allclose(projections.pca_2d(points[:, :1])[0][:, 1], 0)  # z = 1: a flat second axis


def test_add_tsne_maps_a_fixed_subset_of_the_cached_means(model, tiny_data):
    quick = quick_maps(model, tiny_data[1])
    heard = []
    arrays = add_tsne(quick, tsne_points=60, seed=3, progress=heard.append)
    assert has_tsne(arrays) and set(arrays) == QUICK | {"tsne", "tsne_index"}
    index = arrays["tsne_index"]
    assert len(index) == 60 and np.all(np.diff(index) > 0) and index.min() >= 0 and index.max() < 200
    assert arrays["tsne"].shape == (60, 2) and arrays["tsne"].dtype == np.float32
    assert np.isfinite(arrays["tsne"]).all()
    assert heard[-1] == 1.0 and heard == sorted(heard)
    again = add_tsne(quick, tsne_points=60, seed=3)  # seeded: the same map
    assert np.array_equal(again["tsne_index"], index) and np.allclose(again["tsne"], arrays["tsne"])
    assert set(quick) == QUICK  # the input is left as it was


def test_compute_projections_is_the_stages_in_turn(model, tiny_data):
    at_once = compute_projections(model, tiny_data[1], tsne_points=50, umap=False)
    staged = add_tsne(quick_maps(model, tiny_data[1]) | point_stats(model, tiny_data[1].images), tsne_points=50)
    assert set(at_once) == set(staged) == QUICK | {"nelbo", "kl", "tsne", "tsne_index"}
    for name in at_once:
        assert np.allclose(at_once[name].astype(np.float64), staged[name].astype(np.float64)), name


def test_a_pca_only_file_loads_and_lists(checkpoint, model, tiny_data):
    save_projections(checkpoint, quick_maps(model, tiny_data[1]))
    arrays = load_projections(checkpoint)
    assert set(arrays) == QUICK and not has_tsne(arrays)
    assert store.cache_problems(checkpoint) == []
    assert store.scan(checkpoint.path.parent)[1] == []
    save_projections(checkpoint, add_tsne(arrays, tsne_points=40))  # t-SNE added later completes the file
    assert has_tsne(load_projections(checkpoint)) and len(load_projections(checkpoint)["tsne_index"]) == 40


@pytest.mark.parametrize("kept, lacking", [("tsne", "tsne_index"), ("tsne_index", "tsne")])
def test_half_a_tsne_is_refused(checkpoint, model, tiny_data, kept, lacking):
    arrays = add_tsne(quick_maps(model, tiny_data[1]), tsne_points=40)
    del arrays[lacking]
    save_projections(checkpoint, arrays)
    with pytest.raises(store.CheckpointError, match=rf"projections\.npz lacks {lacking}: run `vae-explorer project"):
        store.read_projections(checkpoint)
    assert load_projections(checkpoint) is None
    assert any(f"lacks {lacking}" in line for line in store.cache_problems(checkpoint))


def test_tsne_shapes_are_still_checked(checkpoint, model, tiny_data):
    arrays = add_tsne(quick_maps(model, tiny_data[1]), tsne_points=40)
    arrays["tsne"] = arrays["tsne"][:30]
    save_projections(checkpoint, arrays)
    with pytest.raises(store.CheckpointError, match=r"holds tsne of shape \(30, 2\)"):
        store.read_projections(checkpoint)


def test_numba_cache_dir_follows_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert projections.numba_cache_dir() == tmp_path / "vae-explorer" / "numba"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert projections.numba_cache_dir() == tmp_path / "home" / ".cache" / "vae-explorer" / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "chosen"))
    assert projections.numba_cache_dir() == tmp_path / "chosen"  # the user's own setting wins


def test_quick_maps_of_a_one_dimensional_latent(tiny_data):
    from vae_core.config import ModelConfig

    torch.manual_seed(0)
    arrays = quick_maps(build_model(ModelConfig(latent_dim=1, hidden_dim=8)).eval(), tiny_data[1])
    assert arrays["pca"].shape == (200, 2) and np.all(arrays["pca"][:, 1] == 0)
