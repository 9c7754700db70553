"""An imported model (``vae-explorer import``: weights trained elsewhere, no history) on every page.

It has no loss curves, no training time and no epochs of ours: the pages say so instead of
drawing empty charts or failing, and everything that needs only the weights and the maps works.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests import pytorch_examples_vae as tutorial
from tests.conftest import write_tiny_checkpoint
from tests.test_dashboard import PAGES, open_app
from vae_core import store
from vae_core.importing import read_tutorial_vae, tutorial_training
from vae_core.projections import compute_projections, save_projections


@pytest.fixture(scope="module")
def root_with_import(tmp_path_factory, tiny_data) -> Path:
    """A tiny z = 2 model trained here, and a tiny z = 2 tutorial VAE imported beside it (with its maps)."""
    root = tmp_path_factory.mktemp("imported")
    write_tiny_checkpoint(root, *tiny_data, latent_dim=2)
    torch.manual_seed(0)
    saved = root.parent / "vae.pt"
    torch.save(tutorial.VAE(hidden=16, latent=2).state_dict(), saved)
    imported = read_tutorial_vae(saved)
    checkpoint = store.save_imported(root, "my-tutorial-vae", imported.model, tutorial_training("mnist"),
                                     imported.source)
    save_projections(checkpoint, compute_projections(imported.model, tiny_data[1], tsne_points=100, umap=False))
    return root


def choose_imported(app):
    box = app.sidebar.selectbox[-1]
    return box.select_index(next(i for i, label in enumerate(box.options) if "imported" in label)).run()


def test_every_page_works_for_an_imported_model(monkeypatch, root_with_import, empty_data):
    app = open_app(monkeypatch, root_with_import, empty_data)
    table = app.dataframe[0].value
    assert len(table) == 2 and not app.exception
    app = choose_imported(app)
    for page in PAGES:
        app.switch_page(f"{page}/page.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
    app.switch_page("training/page.py").run()
    words = " ".join(m.value for m in [*app.info, *app.caption, *app.markdown])
    assert "was imported from `vae.pt`" in words and "no loss curves" in words
    assert not [c for c in app.get("plotly_chart") if c.key == "training_loss"]


def test_the_overview_marks_an_imported_model_and_shows_no_training_numbers(monkeypatch, root_with_import,
                                                                            empty_data):
    app = open_app(monkeypatch, root_with_import, empty_data)
    table = app.dataframe[0].value.set_index("name")
    imported, ours = table.loc["my-tutorial-vae"], table.drop(index="my-tutorial-vae").iloc[0]
    for column in ("epochs", "training time (s)", "test loss (nats)"):  # not evaluated yet: no test loss either
        assert ours[column] > 0 and imported[column] != imported[column], column  # NaN: an empty cell
    assert imported["latent size"] == 2 and imported["maps cached"]


def test_compare_sets_an_imported_model_beside_ours_of_the_same_latent_size(monkeypatch, root_with_import,
                                                                           empty_data):
    """Its epochs and seed are not ours to know: along 'source' they are not held, so the import and our z = 2
    model are two columns; along the other axes the source is held (our models by default)."""
    app = open_app(monkeypatch, root_with_import, empty_data, "compare")
    axis = app.radio(key="axis")
    assert list(axis.options) == ["latent size", "beta", "architecture", "data set", "source"]
    assert axis.value == "latent size" and app.selectbox(key="hold_source").value == "trained here"
    assert [h.value for h in app.subheader if h.value.startswith("z = ")] == ["z = 2"]
    app = axis.set_value("source").run()
    assert not app.exception, [e.value for e in app.exception]
    titles = [h.value for h in app.subheader]
    assert "trained here" in titles and "imported: my-tutorial-vae" in titles
    assert app.selectbox(key="hold_latent_size").value == 2
    assert not [s for s in app.selectbox if s.key in ("hold_epochs", "hold_seed")]  # not held along the source


def test_compare_offers_no_source_axis_without_an_imported_model(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "compare")
    assert "source" not in app.radio(key="axis").options
