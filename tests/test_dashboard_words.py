"""Words follow the data set, models are named with theirs, and Compare holds what its models differ in.

Fashion-MNIST pages say "item" or the class name, never "digit"; a label reads "MNIST · z = 3 (1 epoch)"
when the family mostly trained longer; Compare holds epochs and seed, so a column is one model.
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from dashboard.shell import captions, points, tables
from tests.conftest import write_tiny_checkpoint
from tests.streamlit_internals import component_views
from tests.test_dashboard import live_components, open_app
from vae_core import store
from vae_core.classes import class_names, noun, with_article

FASHION_PAGES = ("overview", "training", "generate", "reconstruct", "traversals", "arithmetic", "compare")
LATENT_SIZES = range(2, 10)  # eight latent sizes of one family: two rows of Compare's columns


def page_texts(app) -> list[str]:
    """Every title, caption, markdown, image caption, widget label and option a page shows."""
    texts = [e.value for kind in ("title", "header", "subheader", "caption", "markdown", "info") for e in
             getattr(app, kind)]
    texts += [caption for image in app.image for caption in (image.captions or []) if caption]
    for kind in ("slider", "number_input", "radio", "selectbox", "toggle", "select_slider", "checkbox"):
        for widget in getattr(app, kind):
            texts.append(widget.label)
            texts.extend(str(option) for option in getattr(widget, "options", None) or [])
    return texts


def test_class_names_nouns_and_articles_are_data_of_the_core():
    assert class_names("mnist")[7] == "7" and class_names("fashion-mnist")[9] == "ankle boot"
    assert (noun("mnist"), noun("fashion-mnist"), noun("fashion-mnist", plural=True)) == ("digit", "item", "items")
    assert [with_article(n) for n in ("7", "8", "11", "ankle boot", "T-shirt", "item")] == [
        "a 7", "an 8", "an 11", "an ankle boot", "a T-shirt", "an item"]
    assert captions.class_names is class_names  # the map pages' name for it still works


def test_captions_word_a_fashion_reading_and_walk_by_class():
    sure = np.eye(10)[9] * 0.9 + 0.01
    assert captions.reading(sure, "fashion-mnist") == "Looks like an **ankle boot** (91%)"
    assert captions.reading(np.eye(10)[8], "mnist") == "Looks like an **8** (100%)"
    note = captions.walk_between_note(0, 1, 9, 2, "fashion-mnist")
    assert "test item #0 (an ankle boot) to #1 (a pullover)" in note and "digit" not in note
    assert "test digit #0 (a 9) to #1 (a 2)" in captions.walk_between_note(0, 1, 9, 2, "mnist")
    assert "digit" not in captions.labels_caption("fashion-mnist") + captions.classifier_missing_sentence(
        None, "fashion-mnist") + captions.point_caption(np.zeros(2), [0, 1], "fashion-mnist")


@pytest.fixture(scope="module")
def fashion_root(tmp_path_factory, tiny_data):
    """Two tiny Fashion-MNIST models, z = 2 and z = 3, with their cached maps."""
    root = tmp_path_factory.mktemp("fashion")
    for latent_dim in (2, 3):
        write_tiny_checkpoint(root, *tiny_data, latent_dim=latent_dim, dataset="fashion-mnist")
    return root


def test_fashion_pages_say_item_and_name_the_data_set(monkeypatch, fashion_root, empty_data):
    app = open_app(monkeypatch, fashion_root, empty_data)
    for page in FASHION_PAGES:
        app.switch_page(f"{page}/page.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
        digits = [text for text in page_texts(app) if "digit" in text.lower()]
        assert not digits, (page, digits)
        if page not in ("overview", "compare"):
            assert app.title[0].value.endswith("Fashion-MNIST · z = 2"), (page, app.title[0].value)
    app.switch_page("generate/page.py").run()
    assert app.title[0].value == "Generate items with Fashion-MNIST · z = 2"


def test_a_fashion_test_item_is_named_by_its_class(monkeypatch, fashion_root, empty_data):
    checkpoint = store.scan(fashion_root)[0][0]
    labels = store.read_projections(checkpoint)["labels"]
    boot, pullover = (int(np.flatnonzero(labels == k)[0]) for k in (9, 2))
    app = open_app(monkeypatch, fashion_root, empty_data, "compare")
    walk_kind = app.radio(key="walk")
    assert list(walk_kind.options)[0] == "Between two test items"
    walk_kind.set_value(points.WALKS[0]).run()
    app.number_input(key="walk_from").set_value(boot).run()
    app.number_input(key="walk_to").set_value(pullover).run()
    assert app.number_input(key="walk_from").label == "From test item"
    _, [(_, walk)] = live_components(app)
    assert f"test item #{boot} (an ankle boot) to #{pullover} (a pullover)" in walk["note"], walk["note"]


@pytest.fixture(scope="module")
def epochs_root(tmp_path_factory, tiny_data):
    """Eight latent sizes of one MLP family (2 epochs, seed 0), plus 1-epoch copies of z = 2, 3 and 4
    and a seed-1 copy of z = 2: the models a user gets by training a family, then trying things."""
    root = tmp_path_factory.mktemp("epochs")
    base = {z: write_tiny_checkpoint(root, *tiny_data, latent_dim=z) for z in LATENT_SIZES}
    for z, changes in ((2, {"epochs": 1}), (3, {"epochs": 1}), (4, {"epochs": 1}), (2, {"seed": 1})):
        resave(root, base[z], **changes)
    return root


def resave(root, checkpoint, **changes) -> store.Checkpoint:
    """The same weights and maps saved as another run (fewer epochs: the history cut to them)."""
    config = dataclasses.replace(checkpoint.train_config, **changes)
    copy = store.save_checkpoint(root, store.load_model(checkpoint), config, checkpoint.history[:config.epochs])
    shutil.copy(checkpoint.path / "projections.npz", copy.path / "projections.npz")
    return store.read_checkpoint(copy.path)


def test_labels_name_the_data_set_and_epochs_that_differ_from_the_family(epochs_root, fashion_root):
    models, _ = store.scan(epochs_root)
    labels = {(c.model_config.latent_dim, c.train_config.epochs, c.train_config.seed): tables.model_label(c, models)
              for c in models}
    assert labels[(5, 2, 0)] == "MNIST · z = 5"
    assert labels[(3, 1, 0)] == "MNIST · z = 3 (1 epoch)"
    assert labels[(2, 1, 0)] == "MNIST · z = 2 (1 epoch)"
    assert labels[(2, 2, 0)] == "MNIST · z = 2 (seed 0)" and labels[(2, 2, 1)] == "MNIST · z = 2 (seed 1)"
    assert len(set(labels.values())) == len(models)
    fashion, _ = store.scan(fashion_root)
    assert [tables.model_label(c, fashion) for c in fashion] == ["Fashion-MNIST · z = 2", "Fashion-MNIST · z = 3"]
    beta = dataclasses.replace(fashion[1], train_config=dataclasses.replace(fashion[1].train_config, beta=4.0))
    conv = dataclasses.replace(fashion[0], model_config=dataclasses.replace(fashion[0].model_config,
                                                                            architecture="conv"))
    assert tables.model_label(beta, [conv, beta]) == "Fashion-MNIST · MLP, z = 3, beta = 4"


def column_titles(app) -> list[str]:
    return [h.value for h in app.subheader if h.value.startswith("z = ")]


def test_compare_holds_epochs_and_seed_so_a_column_is_one_model(monkeypatch, epochs_root, empty_data):
    app = open_app(monkeypatch, epochs_root, empty_data, "compare")
    assert column_titles(app) == [f"z = {z}" for z in LATENT_SIZES]  # the 2-epoch, seed-0 family: eight columns
    assert app.selectbox(key="hold_epochs").value == 2
    assert app.selectbox(key="hold_seed").value == 0
    assert [s.key for s in app.selectbox if s.key == "hold_hidden_width"] == []  # all models are h16
    assert list(app.selectbox(key="hold_epochs").options) == ["1 epoch", "2 epochs"]
    maps = [data for _, data in component_views(app, "vae_canvas")]
    assert [m["model"] for m in maps] == [c.name for c in sorted(
        (c for c in store.scan(epochs_root)[0] if (c.train_config.epochs, c.train_config.seed) == (2, 0)),
        key=lambda c: c.model_config.latent_dim)]  # one canvas map per column, keyed by its model
    assert all(m["compact"] and not m["legend"] for m in maps)
    assert not [c.key for c in app.get("plotly_chart") if c.key.startswith("compare_map")]  # no plotly map left
    app.selectbox(key="hold_epochs").set_value(1).run()
    assert column_titles(app) == ["z = 2", "z = 3", "z = 4"]
    assert any("1 epoch" in m.value and "holding" in m.value for m in app.markdown)
    app.selectbox(key="hold_epochs").set_value(2).run()
    app.selectbox(key="hold_seed").set_value(1).run()
    assert column_titles(app) == ["z = 2"]
    assert not app.exception


def test_compare_starts_on_the_largest_group_from_a_one_epoch_model(monkeypatch, epochs_root, empty_data):
    app = open_app(monkeypatch, epochs_root, empty_data)
    box = app.sidebar.selectbox(key="model")
    box.select_index(list(box.options).index("MNIST · z = 3 (1 epoch)")).run()
    app.switch_page("compare/page.py").run()
    assert column_titles(app) == [f"z = {z}" for z in LATENT_SIZES]
    assert not app.exception
