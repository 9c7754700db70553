"""Shareable links driven by AppTest: the view goes into the URL, and the URL brings the view back.

A second AppTest session opened with the first one's query parameters is someone opening a
copied address. Bad values fall back to defaults (hostile ones: tests/faults/test_security.py).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.shell import points
from tests.test_dashboard import APP, TIMEOUT, browser_reports, choose_model, live_components, open_app


def open_link(monkeypatch, root, data_dir, page: str, query: dict) -> AppTest:
    """A fresh session that opens ``page`` with ``query``, as a pasted address does."""
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # AppTest knows the pages' URLs after a run
    app.query_params = dict(query)
    app.switch_page(f"{page}/page.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def live_view(app: AppTest):
    _, [(element, data)] = live_components(app)
    return element, data


def slider_values(app: AppTest) -> dict[str, float]:
    data = live_view(app)[1]
    return {dim: data["values"][dim] for dim in map(str, data["dims"])}


def test_a_copied_explorer_address_reopens_the_same_view(monkeypatch, tiny_checkpoint_root, empty_data):
    app = choose_model(open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer"), 3)
    app.radio(key="explorer_base_mode").set_value("Random prior draw").run()
    app.number_input(key="explorer_prior_seed").set_value(5).run()
    app.slider(key="explorer_slider_count").set_value(2).run()
    element, data = live_view(app)
    dims = data["dims"]
    browser_reports(app, element, {"point": {"signature": data["signature"],
                                             "values": {str(dims[0]): 1.5, str(dims[1]): -2.25}}})
    shared = dict(app.query_params)
    assert shared["model"] == "mnist-z3-h16-e2-b32-lr0.001-s0" and shared["start"] == "random-prior-draw"
    assert shared["seed"] == "5" and shared["shown"] == "2"
    assert shared["z"] == f"{dims[0]}:1.50,{dims[1]}:-2.25"

    other = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", shared)
    assert other.title[0].value == app.title[0].value == "Latent explorer: MNIST · z = 3"
    assert other.radio(key="explorer_base_mode").value == "Random prior draw"
    assert other.number_input(key="explorer_prior_seed").value == 5
    assert other.slider(key="explorer_slider_count").value == 2
    assert slider_values(other) == {str(dims[0]): 1.5, str(dims[1]): -2.25}
    assert live_view(other)[1]["base"] == pytest.approx(live_view(app)[1]["base"])
    assert dict(other.query_params) == shared  # and the address stays as it was opened


def test_a_copied_address_of_a_test_digit_start_and_of_your_digit(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer",
                    {"model": "mnist-z2-h16-e2-b32-lr0.001-s0", "start": "test-digit", "digit": "12"})
    assert app.radio(key="explorer_base_mode").value == "Test digit"
    assert app.number_input(key="explorer_test_index").value == 12
    at = {"model": "mnist-z3-h16-e2-b32-lr0.001-s0", "start": "your-digit", "at": "0.5,-1.25,2"}
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", at)
    assert app.radio(key="explorer_base_mode").value == points.OWN_DIGIT
    assert live_view(app)[1]["base"] == pytest.approx([0.5, -1.25, 2.0])
    assert app.query_params["at"] == "0.5,-1.25,2"


def test_the_generate_seed_and_the_map_projection_are_in_the_address(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "generate", {"seed": "42"})
    assert app.number_input(key="generate_seed").value == 42
    app.number_input(key="generate_seed").set_value(43).run()
    assert app.query_params["seed"] == "43"
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": "mnist-z3-h16-e2-b32-lr0.001-s0", "map": "t-sne"})
    assert app.title[0].value.endswith("z = 3") and app.radio(key="latent_map_method").value == "t-SNE"
    app.radio(key="latent_map_method").set_value("PCA").run()
    assert app.query_params["map"] == "pca"


def test_the_address_follows_the_view_and_describes_one_page(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer")
    assert app.query_params["model"] == "mnist-z2-h16-e2-b32-lr0.001-s0" and app.query_params["start"] == "origin"
    choose_model(app, 3)
    assert app.query_params["model"] == "mnist-z3-h16-e2-b32-lr0.001-s0"
    assert app.title[0].value.endswith("z = 3")  # the model written into the URL is not read back as a request
    app.switch_page("generate/page.py").run()
    assert set(app.query_params) == {"model", "seed"}  # the explorer's parameters went with its page
    assert app.title[0].value.endswith("z = 3")


def test_a_rerun_carrying_an_older_address_of_ours_does_not_move_the_sliders_back(monkeypatch, tiny_checkpoint_root,
                                                                                   empty_data):
    # Each rerun takes its query string from the browser; keys pressed quickly ask for a rerun before
    # the browser has applied the last write, so the URL carries a value this session wrote earlier.
    app = choose_model(open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer"), 3)
    app.toggle(key="explorer_live").set_value(False).run()
    first = next(s.key for s in app.slider if s.key.startswith("explorer_mnist-z3"))  # a latent coordinate's
    app.slider(key=first).set_value(0.5).run()
    echo = app.query_params["z"]
    app.slider(key=first).set_value(1.0).run()
    assert app.query_params["z"] != echo
    app.query_params["z"] = echo
    app.slider(key=first).set_value(1.5).run()
    assert app.slider(key=first).value == 1.5
    assert app.query_params["z"].startswith(first.rsplit("_", 1)[1] + ":1.50")


@pytest.mark.parametrize("query", [
    {"model": "no-such-model"},
    {"model": "mnist-z3-h16-e2-b32-lr0.001-s0/../mnist-z3-h16-e2-b32-lr0.001-s0"},
    {"start": "sideways", "seed": "-3", "digit": "1e3"},
    {"start": "your-digit", "at": "1,2,3"},  # three numbers for a 2-D model
    {"start": "your-digit", "at": "nan,1"},
    {"z": "0:inf,1:2"},
    {"z": "0:1,1:2,7:3"},
    {"z": "x:1"},
    {"z": "0:" + "9" * 5000},
])
def test_bad_values_in_an_address_fall_back_to_the_defaults(monkeypatch, tiny_checkpoint_root, empty_data, query):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", query)
    assert app.title[0].value == "Latent explorer: MNIST · z = 2"
    assert app.radio(key="explorer_base_mode").value == "Origin"
    assert slider_values(app) == {"0": 0.0, "1": 0.0}
    assert app.query_params["model"] == "mnist-z2-h16-e2-b32-lr0.001-s0" and app.query_params["start"] == "origin"
    assert "z" not in query or app.query_params["z"] == "0:0.00,1:0.00"  # the address is rewritten to the view


@pytest.mark.parametrize(("query", "key", "default"), [
    ({"start": "test-digit", "digit": "99999"}, "explorer_test_index", 0),
    ({"start": "test-digit", "digit": "-1"}, "explorer_test_index", 0),
    ({"start": "random-prior-draw", "seed": "99999999999999"}, "explorer_prior_seed", 0),
    ({"start": "random-prior-draw", "seed": "0x10"}, "explorer_prior_seed", 0),
])
def test_a_number_out_of_its_widget_range_falls_back_to_the_default(monkeypatch, tiny_checkpoint_root, empty_data,
                                                                     query, key, default):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", query)
    assert app.number_input(key=key).value == default


def test_a_copied_traversals_address_reopens_the_same_view(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "traversals")
    app.radio(key="traversals_start").set_value(points.BASE_MODES[1]).run()
    app.number_input(key="traversals_seed").set_value(7).run()
    app.slider(key="traversals_columns").set_value(5).run()
    query = dict(app.query_params)
    assert {k: query[k] for k in ("start", "seed", "columns")} == {"start": "random-prior-draw", "seed": "7",
                                                                    "columns": "5"}
    copy = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "traversals", query)
    assert copy.radio(key="traversals_start").value == points.BASE_MODES[1]
    assert (copy.number_input(key="traversals_seed").value, copy.slider(key="traversals_columns").value) == (7, 5)
    assert [i.value for i in copy.image] == [i.value for i in app.image]  # the same figure


def test_a_copied_class_arithmetic_address_reopens_the_same_view(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "arithmetic")
    app.selectbox(key="arithmetic_morph_from").set_value(2).run()
    app.selectbox(key="arithmetic_morph_to").set_value(5).run()
    app.slider(key="arithmetic_strength").set_value(1.5).run()
    query = dict(app.query_params)
    assert (query["morph"], query["strength"]) == ("2-5", "1.5")
    copy = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "arithmetic", query)
    morph = copy.selectbox(key="arithmetic_morph_from").value, copy.selectbox(key="arithmetic_morph_to").value
    assert morph == (2, 5)
    assert copy.slider(key="arithmetic_strength").value == 1.5


@pytest.mark.parametrize("query", [{"morph": "2-x", "strength": "9"}, {"morph": "../../etc", "columns": "4"},
                                   {"digit": "-1", "steps": "99"}])
def test_bad_traversal_and_arithmetic_values_fall_back_to_defaults(monkeypatch, tiny_checkpoint_root, empty_data,
                                                                   query):
    traversals = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "traversals", query)
    assert traversals.slider(key="traversals_columns").value == 9
    arithmetic = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "arithmetic", query)
    assert arithmetic.slider(key="arithmetic_strength").value == 1.0
    assert arithmetic.slider(key="arithmetic_morph_steps").value == 10
