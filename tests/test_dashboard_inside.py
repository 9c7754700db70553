"""The Traversals and Class arithmetic pages, UMAP on the Latent map and Compare, and the download buttons,
driven by AppTest against tiny checkpoints and the shipped ones."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.test_dashboard import open_app
from vae_core import store
from vae_core.projections import load_projections, save_projections

Z50 = "mnist-z50-h400-e12-b128-lr0.001-s0"


def downloads(app) -> list[str]:
    return [element.label for element in app.download_button]


def markdown_text(app) -> str:
    return " ".join(m.value for m in app.markdown)


def choose_model(app, name: str):
    app.sidebar.selectbox(key="model").set_value(name).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(scope="module")
def umap_root(tmp_path_factory, tiny_checkpoint_root):
    """The tiny checkpoints, the z = 3 one with a UMAP map (PCA's coordinates stand in: no numba here)."""
    root = tmp_path_factory.mktemp("umap") / "ck"
    shutil.copytree(tiny_checkpoint_root, root)
    checkpoint = next(c for c in store.scan(root)[0] if c.model_config.latent_dim == 3)
    arrays = load_projections(checkpoint)
    save_projections(checkpoint, {**arrays, "umap": np.asarray(arrays["pca"], dtype=np.float32)})
    return root


def test_traversals_every_control_reruns_without_error(monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "traversals")
    choose_model(app, next(c.name for c in store.scan(tiny_checkpoint_root)[0] if c.model_config.latent_dim == 3))
    assert app.title[0].value.startswith("Traversals")
    assert len(app.image) == 1 and downloads(app) == ["PNG", "GIF"]
    assert "ordered by average KL per dimension over the test set" in markdown_text(app)
    assert not app.get("toggle")  # three dimensions: every row is shown, no "show all"
    first = app.image[0].value[0]
    app.slider(key="columns").set_value(5).run()
    assert app.image[0].value[0] != first
    app.radio(key="start").set_value("Test digit").run()
    app.number_input(key="digit").set_value(7).run()
    assert any("#7 is a 7" in c.value for c in app.caption)
    app.radio(key="start").set_value("Random prior draw").run()
    app.number_input(key="seed").set_value(3).run()
    assert not app.exception and len(app.image) == 1


def test_traversals_of_z50_show_ten_rows_until_show_all_and_mark_collapsed_ones(monkeypatch, shipped_root,
                                                                                empty_data):
    app = choose_model(open_app(monkeypatch, shipped_root, empty_data, "traversals"), Z50)
    assert "The 40 less informative dimension(s) are hidden" in markdown_text(app)
    assert "amber row" not in markdown_text(app)  # the 10 most informative dimensions are all in use
    app.toggle(key="all").set_value(True).run()
    text = markdown_text(app)
    assert "hidden" not in text and "amber row(s)**: collapsed dimensions" in text
    modes = app.radio(key="start").options
    assert "Test digit" in modes  # no test images, but the cached means give start points


def test_class_arithmetic_every_control_reruns_without_error(monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "arithmetic")
    assert [h.value for h in app.subheader] == ["The mean of each class", "Morph from one class to another",
                                                "Add a class direction to a digit"]
    assert downloads(app) == ["PNG", "PNG", "GIF", "PNG", "GIF"]
    before = [i.value[0] for i in app.image]
    app.selectbox(key="morph_from").set_value(3).run()
    app.selectbox(key="morph_to").set_value(8).run()
    app.slider(key="steps").set_value(5).run()
    app.number_input(key="digit").set_value(4).run()
    app.selectbox(key="direction_from").set_value(2).run()
    app.selectbox(key="direction_to").set_value(6).run()
    app.slider(key="strength").set_value(1.5).run()
    assert not app.exception, [e.value for e in app.exception]
    after = [i.value[0] for i in app.image]
    assert after[0] == before[0] and after[1] != before[1] and after[-1] != before[-1]
    assert any("Test digit #4, a 4" in (i.captions or [""])[0] for i in app.image)


def test_class_arithmetic_works_from_the_cached_means_without_test_images(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "arithmetic")
    assert not app.exception and len(app.image) == 3  # class means, morph, direction: no original digit
    assert app.selectbox(key="morph_from").options == [str(k) for k in range(10)]


def test_latent_map_offers_umap_and_says_how_to_compute_a_missing_one(monkeypatch, umap_root, fake_mnist_dir):
    app = open_app(monkeypatch, umap_root, fake_mnist_dir, "latent_map")
    assert app.radio(key="map").options == ["Latent coordinates", "t-SNE", "UMAP"]
    app.radio(key="map").set_value("UMAP").run()
    assert any("vae-explorer project --dataset mnist" in i.value for i in app.info)  # z = 2 has no UMAP yet
    choose_model(app, next(c.name for c in store.scan(umap_root)[0] if c.model_config.latent_dim == 3))
    assert app.radio(key="map").value == "UMAP" and not app.info
    assert downloads(app) == ["CSV", "TensorBoard projector"]


def test_latent_map_without_test_images_says_what_the_exports_need(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "latent_map")
    app.radio(key="map").set_value("UMAP").run()
    assert not app.exception and not any("No cached UMAP" in i.value for i in app.info)  # the shipped maps have it
    assert downloads(app) == [] and any("Both exports need the test images" in c.value for c in app.caption)


def test_compare_draws_umap_maps_or_says_how_to_add_them(monkeypatch, umap_root, shipped_root, empty_data):
    app = open_app(monkeypatch, umap_root, empty_data, "compare")
    app.radio(key="map").set_value("UMAP").run()
    assert not app.exception
    assert sum("No cached UMAP map" in c.value for c in app.caption) == 1  # z = 2 lacks it, z = 3 has it
    app = open_app(monkeypatch, shipped_root, empty_data, "compare")
    app.radio(key="map").set_value("UMAP").run()
    assert not app.exception and not any("No cached UMAP map" in c.value for c in app.caption)


def test_compare_offers_its_walk_as_png_and_gif(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "compare")
    assert downloads(app) == ["PNG", "GIF"]  # one row per latent size, or all of them moving at once
    app.radio(key="walk").set_value("Along a random direction").run()
    app.number_input(key="walk_seed").set_value(5).run()
    assert not app.exception and downloads(app) == ["PNG", "GIF"]


def test_explorer_offers_its_grid_as_png_and_its_interpolation_as_png_and_gif(monkeypatch, tiny_checkpoint_root,
                                                                              fake_mnist_dir):
    import io

    import torch
    from PIL import Image

    from dashboard.shell import downloads as page_downloads
    from vae_core.config import ModelConfig
    from vae_core.models import build_model

    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "explorer")
    assert downloads(app) == ["PNG", "PNG", "GIF"]  # the manifold grid, then the interpolation strip
    app.slider(key="steps").set_value(4).run()
    assert not app.exception and downloads(app) == ["PNG", "PNG", "GIF"]
    model = build_model(ModelConfig(latent_dim=2, hidden_dim=8)).eval()
    gif = Image.open(io.BytesIO(page_downloads.line_gif(model, torch.zeros(2), torch.ones(2), 4)()))
    assert gif.format == "GIF" and gif.n_frames == 6  # 4 forward, 2 back


def test_no_dashboard_module_imports_umap_or_numba():
    """numba compiles UMAP's kernels on first use (tens of seconds): the app only reads the cached maps."""
    import ast
    from pathlib import Path

    heavy = {"umap", "numba", "pynndescent"}
    for path in (Path(__file__).resolve().parent.parent / "dashboard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not {n.split(".")[0] for n in names} & heavy, (path, names)


def test_fashion_mnist_pages_name_the_classes(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "arithmetic")
    app.sidebar.selectbox(key="dataset").set_value("fashion-mnist").run()
    assert not app.exception and app.title[0].value.startswith("Class arithmetic")
    box = app.selectbox(key="morph_from")
    assert box.options[0] == "T-shirt" and box.value == 3  # dress
    app.switch_page("traversals/page.py").run()
    assert not app.exception and len(app.image) == 1


def test_reconstruct_offers_its_reconstructions_as_png(monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "reconstruct")
    assert downloads(app) == ["PNG"]
    app.slider(key="count").set_value(10).run()
    assert not app.exception and downloads(app) == ["PNG"]
