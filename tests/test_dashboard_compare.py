"""Compare driven by AppTest: columns whose model has no t-SNE map yet.

A new model is saved with its quick maps (means, labels, PCA); t-SNE and UMAP follow in the
background. Until they land, its column says so in one short line, or follows the process that
computes them, and the other columns draw their maps.
"""

from __future__ import annotations

import shutil

import pytest

from tests.streamlit_internals import component_views
from tests.test_dashboard import open_app
from vae_core import store
from vae_core.map_progress import MapWork
from vae_core.projections import load_projections, save_projections

QUICK_MAPS = ("mu", "labels", "pca", "pca_explained")  # what a new model's projections.npz holds first


@pytest.fixture(scope="module")
def quick_maps_root(tmp_path_factory, tiny_checkpoint_root):
    """The tiny checkpoints, the z = 3 one with its quick maps only (no tsne / tsne_index)."""
    root = tmp_path_factory.mktemp("quick") / "ck"
    shutil.copytree(tiny_checkpoint_root, root)
    checkpoint = next(c for c in store.scan(root)[0] if c.model_config.latent_dim == 3)
    arrays = load_projections(checkpoint)
    save_projections(checkpoint, {name: arrays[name] for name in QUICK_MAPS})
    return root


def column_captions(app) -> list[str]:
    return [c.value for c in app.caption if c.value.startswith("No cached")]


def test_a_column_without_its_t_sne_map_says_so_in_one_line(monkeypatch, quick_maps_root, empty_data):
    app = open_app(monkeypatch, quick_maps_root, empty_data, "compare")
    assert app.radio(key="map").value == "t-SNE"
    assert [h.value for h in app.subheader if h.value.startswith("z = ")] == ["z = 2", "z = 3"]
    assert column_captions(app) == ["No cached t-SNE map yet (`vae-explorer project --dataset mnist`)."]
    assert [v["model"] for v in map_views(app)] == [name(quick_maps_root, 2)]  # z = 2 draws its map
    app.radio(key="map").set_value("PCA").run()
    assert not app.exception and not column_captions(app) and len(map_views(app)) == 2  # PCA is there at once


def test_a_column_whose_map_is_being_computed_shows_its_progress(monkeypatch, quick_maps_root, empty_data):
    with MapWork(quick_maps_root, name(quick_maps_root, 3)) as work:
        work.step("t-SNE", 0.4)
        app = open_app(monkeypatch, quick_maps_root, empty_data, "compare")
        assert not column_captions(app)
        [bar] = app.get("progress")
        assert bar.text.startswith("t-SNE: computing, 40%")
    assert [v["model"] for v in map_views(app)] == [name(quick_maps_root, 2)]


def map_views(app) -> list[dict]:
    return [data for _, data in component_views(app, "vae_canvas")]


def name(root, latent_dim: int) -> str:
    return next(c.name for c in store.scan(root)[0] if c.model_config.latent_dim == latent_dim)


def test_the_latent_map_follows_a_t_sne_being_computed_and_says_how_to_add_one_nobody_computes(
        monkeypatch, quick_maps_root, empty_data):
    app = open_app(monkeypatch, quick_maps_root, empty_data, "latent_map")
    app.sidebar.selectbox(key="model").set_value(name(quick_maps_root, 3)).run()
    app.radio(key="map").set_value("t-SNE").run()
    assert not app.exception
    assert [i.value for i in app.info] == ["No cached t-SNE map for this model yet: `vae-explorer project --dataset "
                                           "mnist` adds it from the cached means (no test images needed), and this "
                                           "page shows it when it is done."]
    with MapWork(quick_maps_root, name(quick_maps_root, 3)) as work:
        work.step("t-SNE", 0.25)
        app.run()
        [bar] = app.get("progress")
        assert bar.text.startswith("t-SNE: computing, 25%") and "appears here when it is done" in bar.text
    assert not map_views(app)  # no stale map of another projection meanwhile
