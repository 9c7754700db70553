"""Shareable links driven by AppTest: an address brings the view back, and what we write by hand is right.

A session opened with query parameters is someone opening a copied address. Widgets bound to
the URL (``bind="query-params"``) are written into the address by the browser, so that half is
tested in chromium (tests/test_browser_state.py, tests/test_browser_canvas.py); here AppTest
checks that every parameter is read back, that the ones we write (model, z, at) follow the view,
and that bad values fall back to defaults (hostile ones: tests/faults/test_security.py).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.shell import points
from tests.test_dashboard import (
    APP,
    TIMEOUT,
    choose_model,
    explorer_view,
    live_components,
    open_app,
    point_caption,
    report_point,
)


def open_link(monkeypatch, root, data_dir, page: str, query: dict) -> AppTest:
    """A fresh session that opens ``page`` with ``query``, as a pasted address does."""
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # AppTest knows the pages' URLs after a run
    app.query_params = dict(query)
    app.switch_page(f"{page}/page.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def follow_link(app: AppTest, label: str) -> dict[str, str]:
    """Follow the page link labelled ``label`` in the same session, as a click does (its page, with the parameters
    of its address); its parameters."""
    [found] = [e.proto for e in app.get("page_link") if e.proto.label == label]
    linked = {name: values[0] for name, values in parse_qs(found.query_string).items()}
    app.query_params = dict(linked)
    app.switch_page(f"{found.page.replace('-', '_')}/page.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return linked


def live_view(app: AppTest):
    _, [(element, data)] = live_components(app)
    return element, data


def slider_values(app: AppTest) -> dict[str, float]:
    data = live_view(app)[1]
    return {dim: data["values"][dim] for dim in map(str, data["dims"])}


def test_an_explorer_address_reopens_its_view(monkeypatch, tiny_checkpoint_root, empty_data):
    query = {"model": "mnist-z3-h16-e2-b32-lr0.001-s0", "start": "Random prior draw", "seed": "5", "shown": "2",
             "plane_x": "z[2]", "z": "1:1.50,2:-2.25"}
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", query)
    assert app.title[0].value.endswith("z = 3")
    assert app.radio(key="start").value == "Random prior draw"
    assert (app.number_input(key="seed").value, app.slider(key="shown").value) == (5, 2)
    assert app.selectbox(key="plane_x").value == 2 and live_view(app)[1]["plane"]["x"] == 2
    dims, z = live_view(app)[1]["dims"], {1: 1.5, 2: -2.25}
    assert set(dims) & set(z) and all(slider_values(app)[str(d)] == z[d] for d in dims if d in z)
    assert app.query_params["start"] == query["start"]  # the model's picker writes its label in the browser


def test_the_live_point_and_the_model_are_written_into_the_address(monkeypatch, tiny_checkpoint_root, empty_data):
    app = choose_model(open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer"), 3)
    assert app.title[0].value.endswith("z = 3")  # the model written into the URL is not read back as a request
    dims = live_view(app)[1]["dims"]
    report_point(app, {dims[0]: 1.5, dims[1]: -2.25})
    assert app.query_params["z"].startswith(f"{dims[0]}:1.50,{dims[1]}:-2.25")
    app.switch_page("generate/page.py").run()
    assert not {"z", "at", "start"} & set(app.query_params)  # the explorer's parameters went with its page
    assert app.title[0].value.endswith("z = 3")


def test_a_copied_address_of_a_test_digit_start_and_of_your_digit(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer",
                    {"model": "mnist-z2-h16-e2-b32-lr0.001-s0", "start": "Test digit", "digit": "12"})
    assert app.radio(key="start").value == "Test digit"
    assert app.number_input(key="digit").value == 12
    at = {"model": "mnist-z3-h16-e2-b32-lr0.001-s0", "start": points.OWN_DIGIT, "at": "0.5,-1.25,2"}
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", at)
    assert app.radio(key="start").value == points.OWN_DIGIT
    assert live_view(app)[1]["base"] == pytest.approx([0.5, -1.25, 2.0])
    assert app.query_params["at"] == "0.5,-1.25,2"


def test_a_page_opened_again_reads_its_address_even_a_value_this_session_wrote(monkeypatch, tiny_checkpoint_root,
                                                                              empty_data):
    """Your digit's "Explore from here" with a digit explored before: the explorer's address carries a start point
    it wrote itself earlier, and it is the one the link asks for (on a page's first run nothing is an echo)."""
    model = "mnist-z2-h16-e2-b32-lr0.001-s0"
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer",
                    {"model": model, "start": points.OWN_DIGIT, "at": "0.5,-1.25"})
    for at in ("2,1", "0.5,-1.25"):  # another digit, then the first one again, each from another page
        app.switch_page("latent_map/page.py").run()
        app.query_params = {"model": model, "start": points.OWN_DIGIT, "at": at}
        app.switch_page("explorer/page.py").run()
        assert not app.exception, [e.value for e in app.exception]
        assert live_view(app)[1]["base"] == pytest.approx([float(v) for v in at.split(",")])


def test_the_generate_seed_and_the_map_projection_come_back_from_an_address(monkeypatch, tiny_checkpoint_root,
                                                                              empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "generate",
                    {"seed": "42", "count": "12", "temperature": "0.5", "labels": "true"})
    assert (app.number_input(key="seed").value, app.slider(key="count").value) == (42, 12)
    assert app.slider(key="temperature").value == 0.5 and app.toggle(key="labels").value
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": "mnist-z3-h16-e2-b32-lr0.001-s0", "map": "t-SNE"})
    assert app.title[0].value.endswith("z = 3") and app.radio(key="map").value == "t-SNE"


def test_a_rerun_carrying_an_older_address_of_ours_does_not_move_the_sliders_back(monkeypatch, tiny_checkpoint_root,
                                                                                   empty_data):
    # Each rerun takes its query string from the browser; keys pressed quickly ask for a rerun before
    # the browser has applied the last write, so the URL carries a value this session wrote earlier.
    app = choose_model(open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer"), 3)
    first = explorer_view(app)[1]["dims"][0]  # the first latent coordinate's slider
    report_point(app, {first: 0.5})
    echo = app.query_params["z"]
    report_point(app, {first: 1.0})
    assert app.query_params["z"] != echo
    app.query_params["z"] = echo
    report_point(app, {first: 1.5})
    assert app.query_params["z"].startswith(f"{first}:1.50")  # the report wins, the echo is not a request
    assert f"z[{first}] = 1.50" in point_caption(app) or "1.50" in point_caption(app)


@pytest.mark.parametrize("query", [
    {"model": "no-such-model"},
    {"model": "mnist-z3-h16-e2-b32-lr0.001-s0/../mnist-z3-h16-e2-b32-lr0.001-s0"},
    {"start": "sideways", "seed": "-3", "digit": "1e3"},
    {"start": "Your digit", "at": "1,2,3"},  # three numbers for a 2-D model
    {"start": "Your digit", "at": "nan,1"},
    {"z": "0:inf,1:2"},
    {"z": "0:1,1:2,7:3"},
    {"z": "x:1"},
    {"z": "0:" + "9" * 5000},
])
def test_bad_values_in_an_address_fall_back_to_the_defaults(monkeypatch, tiny_checkpoint_root, empty_data, query):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", query)
    assert app.title[0].value == "Latent explorer: MNIST · z = 2"
    assert app.radio(key="start").value == "Origin"
    assert slider_values(app) == {"0": 0.0, "1": 0.0}
    assert "z" not in app.query_params  # the address is rewritten to the view: the start point needs no z


@pytest.mark.parametrize(("query", "key", "default"), [
    ({"start": "Test digit", "digit": "99999"}, "digit", 0),
    ({"start": "Test digit", "digit": "-1"}, "digit", 0),
    ({"start": "Random prior draw", "seed": "99999999999999"}, "seed", 0),
    ({"start": "Random prior draw", "seed": "0x10"}, "seed", 0),
])
def test_a_number_out_of_its_widget_range_falls_back_to_the_default(monkeypatch, tiny_checkpoint_root, empty_data,
                                                                     query, key, default):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "explorer", query)
    assert app.number_input(key=key).value == default


def test_a_traversals_address_reopens_the_same_figure(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "traversals")
    app.radio(key="start").set_value(points.BASE_MODES[1]).run()
    app.number_input(key="seed").set_value(7).run()
    app.slider(key="columns").set_value(5).run()
    query = {"model": "MNIST · z = 2", "start": points.BASE_MODES[1], "seed": "7", "columns": "5"}
    copy = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "traversals", query)
    assert copy.radio(key="start").value == points.BASE_MODES[1]
    assert (copy.number_input(key="seed").value, copy.slider(key="columns").value) == (7, 5)
    assert [i.value for i in copy.image] == [i.value for i in app.image]  # the same figure


def test_a_class_arithmetic_address_reopens_the_same_view(monkeypatch, tiny_checkpoint_root, empty_data):
    query = {"morph_from": "2", "morph_to": "5", "steps": "7", "direction_from": "0", "direction_to": "9",
             "digit": "3", "strength": "1.5"}
    copy = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "arithmetic", query)
    assert (copy.selectbox(key="morph_from").value, copy.selectbox(key="morph_to").value) == (2, 5)
    assert (copy.selectbox(key="direction_from").value, copy.selectbox(key="direction_to").value) == (0, 9)
    assert (copy.slider(key="steps").value, copy.number_input(key="digit").value) == (7, 3)
    assert copy.slider(key="strength").value == 1.5


@pytest.mark.parametrize("query", [{"morph_from": "x", "strength": "9"}, {"morph_to": "../../etc", "columns": "4"},
                                   {"digit": "-1", "steps": "99"}, {"columns": "1"}])
def test_bad_traversal_and_arithmetic_values_fall_back_to_defaults(monkeypatch, tiny_checkpoint_root, empty_data,
                                                                   query):
    traversals = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "traversals", query)
    assert traversals.slider(key="columns").value == 9
    arithmetic = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "arithmetic", query)
    assert arithmetic.slider(key="strength").value == 1.0
    assert arithmetic.slider(key="steps").value == 10


def test_a_compare_address_reopens_its_axis_and_held_settings(monkeypatch, shipped_root, empty_data):
    app = open_link(monkeypatch, shipped_root, empty_data, "compare", {"axis": "beta"})
    assert app.radio(key="axis").value == "beta"
    box = app.selectbox(key="hold_latent_size")
    other = next(option for option in box.options if option != box.value)  # an option label, as the URL spells it
    copy = open_link(monkeypatch, shipped_root, empty_data, "compare", {"axis": "beta", "hold_latent_size": other,
                                                                        "seed": "3", "map": "PCA"})
    assert copy.radio(key="axis").value == "beta" and copy.selectbox(key="hold_latent_size").format_func(
        copy.selectbox(key="hold_latent_size").value) == other
    assert copy.number_input(key="seed").value == 3 and copy.radio(key="map").value == "PCA"
