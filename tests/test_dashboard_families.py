"""The dashboard with several model families: sidebar labels, Compare along any axis, the conv explorer."""

from __future__ import annotations

import pytest

from tests.conftest import write_tiny_checkpoint
from tests.test_dashboard import PAGES, live_components, open_app, point_caption, report_point


@pytest.fixture(scope="module")
def family_root(tmp_path_factory, tiny_data):
    """MLP z = 2 and 3, an MLP z = 2 with beta 4, a conv z = 2 (MNIST), and an MLP z = 2 on Fashion-MNIST."""
    root = tmp_path_factory.mktemp("families")
    for settings in ({"latent_dim": 2}, {"latent_dim": 3}, {"latent_dim": 2, "beta": 4.0},
                     {"latent_dim": 2, "architecture": "conv"}, {"latent_dim": 2, "dataset": "fashion-mnist"}):
        write_tiny_checkpoint(root, *tiny_data, **settings)
    return root


def column_titles(app) -> list[str]:
    return [h.value for h in app.subheader if h.value.startswith(("z = ", "beta = ", "MLP", "conv", "MNIST",
                                                                   "Fashion"))]


def test_the_sidebar_names_every_model_by_its_family(monkeypatch, family_root, empty_data):
    app = open_app(monkeypatch, family_root, empty_data)
    box = app.sidebar.selectbox(key="model")
    labels = list(box.options)  # AppTest holds the formatted labels
    assert labels == ["MNIST · MLP, z = 2", "MNIST · MLP, z = 2, beta = 4", "MNIST · MLP, z = 3", "MNIST · conv, z = 2"]
    for page in PAGES[1:]:
        box.select_index(3).run()  # the conv model on every page
        app.switch_page(f"{page}/page.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])


def test_compare_along_each_axis_holds_the_others(monkeypatch, family_root, empty_data):
    app = open_app(monkeypatch, family_root, empty_data, "compare")
    assert column_titles(app) == ["z = 2", "z = 3"]  # latent sizes of the MLP, beta 1, MNIST
    app.radio(key="axis").set_value("beta").run()
    assert column_titles(app) == ["beta = 1", "beta = 4"]
    app.radio(key="axis").set_value("architecture").run()
    assert column_titles(app) == ["MLP", "conv"]
    _, [(_, walk)] = live_components(app)
    assert [w["label"] for w in walk["walks"]] == ["MLP", "conv"]  # the page decodes both architectures
    app.radio(key="axis").set_value("data set").run()
    assert column_titles(app) == ["MNIST", "Fashion-MNIST"]
    assert not app.exception
    titles = [h.value for h in app.subheader]
    assert "Metrics against data set" in titles


def test_compare_says_when_no_model_has_the_held_settings(monkeypatch, family_root, empty_data):
    app = open_app(monkeypatch, family_root, empty_data, "compare")
    app.radio(key="axis").set_value("latent size").run()
    app.selectbox(key="hold_architecture").set_value("conv").run()
    assert column_titles(app) == ["z = 2"]
    app.selectbox(key="hold_beta").set_value(4.0).run()
    assert column_titles(app) == [] and any("pick other settings" in i.value for i in app.info)


def test_the_explorer_of_a_conv_model_decodes_it_in_the_page(monkeypatch, family_root, empty_data):
    app = open_app(monkeypatch, family_root, empty_data, "explorer")
    box = app.sidebar.selectbox(key="model")
    box.select_index(list(box.options).index("MNIST · conv, z = 2")).run()
    weights, [(_, view)] = live_components(app)
    assert not app.exception and len(weights) == 1 and view["model"].startswith("mnist-conv-z2")
    before = point_caption(app)
    report_point(app, {view["dims"][0]: 1.5})  # a reported value reaches the server's caption and reading
    assert not app.exception and point_caption(app) != before
