"""The dashboard with checkpoints of registered architectures (tests/plugin_arch, AppTest): every page renders
them, a chain decoder goes to the page as a layer list, and a decoder the page cannot run is decoded by the
server at the reported point, with one line saying so, in the explorer and in Compare's walk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import write_tiny_checkpoint
from tests.test_dashboard import PAGES, browser_reports, live_components, open_app, report_point
from tests.test_live_decoder import parse_payload, server_pixels
from vae_core import store

LABELS = ["MNIST · MLP, z = 2", "MNIST · leaky, z = 2", "MNIST · residual, z = 2"]


@pytest.fixture(scope="module")
def plugin_root(plugin_site, tmp_path_factory, tiny_data):
    """An MLP, the leaky plugin (a chain: decoded in the page) and the residual plugin (the server), each z = 2."""
    root = tmp_path_factory.mktemp("plugin-checkpoints")
    for architecture in ("mlp", "leaky", "residual"):
        write_tiny_checkpoint(root, *tiny_data, architecture=architecture)
    return root


def pick(app, label: str):
    box = app.sidebar.selectbox(key="model")
    return box.select_index(list(box.options).index(label)).run()


def model_of(root, architecture: str):
    [checkpoint] = [c for c in store.scan(root)[0] if c.model_config.architecture == architecture]
    return checkpoint, store.load_model(checkpoint)


def served_pixels(model, point: list[float]) -> list[int]:
    return server_pixels(model, np.asarray([point], dtype=np.float32))[0].tolist()


def test_every_page_renders_the_plugins_checkpoints(plugin_root, monkeypatch, empty_data):
    app = open_app(monkeypatch, plugin_root, empty_data)
    assert list(app.sidebar.selectbox(key="model").options) == LABELS
    assert len(app.dataframe[0].value) == 3 and not app.warning  # listed, and no plugin skipped
    for label in LABELS[1:]:
        for page in PAGES[1:]:
            pick(app, label)
            app.switch_page(f"{page}/page.py").run()
            assert not app.exception, (label, page, [e.value for e in app.exception])


def test_the_explorer_sends_a_chain_plugins_layer_list(plugin_root, monkeypatch, empty_data):
    app = pick(open_app(monkeypatch, plugin_root, empty_data, "explorer"), LABELS[1])
    [payload], [(_, view)] = live_components(app)
    header, _ = parse_payload(payload)
    assert header["architecture"] == "leaky" and header["server"] is None
    assert [op["op"] for op in header["layers"]] == ["linear", "leaky_relu", "linear", "tanh", "linear"]
    assert view["server"] is None  # the page decodes it as you drag


def test_the_explorer_shows_the_servers_digit_for_a_decoder_the_page_cannot_run(plugin_root, monkeypatch,
                                                                                  empty_data):
    _, model = model_of(plugin_root, "residual")
    app = pick(open_app(monkeypatch, plugin_root, empty_data, "explorer"), LABELS[2])
    [payload], [(_, view)] = live_components(app)
    assert parse_payload(payload)[0]["layers"] is None
    server = view["server"]
    assert server["note"] == ("Decoded on the server at the point last reported (on release or a short pause), not "
                              "as you drag: the page cannot run this decoder, which is not a straight chain of "
                              "layers (at add: a branch, a skip or a stored tensor).")
    assert server["point"] == pytest.approx([view["values"][str(d)] for d in view["dims"]])
    assert server["grey"] == served_pixels(model, server["point"])
    report_point(app, {0: 1.5, 1: -1.0})
    _, [(_, moved)] = live_components(app)
    assert moved["server"]["point"] == pytest.approx([1.5, -1.0])  # decoded where the page reported
    assert moved["server"]["grey"] == served_pixels(model, [1.5, -1.0]) != server["grey"]


def test_compares_walk_decodes_on_the_server_what_the_page_cannot(plugin_root, monkeypatch, empty_data):
    models = {a: model_of(plugin_root, a)[1] for a in ("mlp", "leaky", "residual")}
    app = open_app(monkeypatch, plugin_root, empty_data, "compare")
    app.radio(key="axis").set_value("architecture").run()
    _, [(element, walk)] = live_components(app)
    assert [w["label"] for w in walk["walks"]] == ["MLP", "leaky", "residual"]
    assert ["grey" in w for w in walk["walks"]] == [False, False, True]
    assert walk["note"].endswith(" residual: decoded on the server at the position last reported (on release), "
                                 "not as you drag: the page cannot run that decoder.")
    for t in (0.5, 0.25):
        if t != 0.5:
            browser_reports(app, element, {"t": t})
            _, [(element, walk)] = live_components(app)
        line = walk["walks"][2]
        point = (torch.tensor(line["start"]) + t * (torch.tensor(line["end"]) - torch.tensor(line["start"])))
        assert line["grey"] == served_pixels(models["residual"], point.tolist())
