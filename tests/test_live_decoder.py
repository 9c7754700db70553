"""The live decoder component: its weights format, its JS interpreter of the layer list (in Node) and its Python
side (AppTest).

The real-browser side (a drag redraws the digit, the canvas pixels equal the server's) is in
``test_browser.py``; registered architectures (their layer lists, the interpreter on them, the server's
digit for a decoder the page cannot run) in ``test_plugins.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from dashboard.components import live_decoder
from tests.conftest import missing_prerequisite
from tests.test_dashboard import (
    browser_reports,
    choose_model,
    default_columns,
    live_components,
    open_app,
    shipped,
)
from vae_core import explore, store
from vae_core.layer_list import decoder_layers

JS = Path(live_decoder.__file__).with_name("live_decoder.js")
BASE_JS = JS.with_name("base.js")  # the components' shared module, which live_decoder.js imports
POINTS = 100
TOLERANCE = 2  # grey levels out of 255


def random_points(latent_dim: int, seed: int) -> np.ndarray:
    """[POINTS, D] latent points, wider than the prior so the tails are checked too."""
    return np.random.default_rng(seed).normal(0.0, 1.5, size=(POINTS, latent_dim)).astype(np.float32)


def server_pixels(model, z: np.ndarray) -> np.ndarray:
    """What the server draws: VAE.decode_images rounded to grey levels, [N, 784] uint8."""
    return explore.to_uint8(model.decode_images(torch.from_numpy(z)).numpy()).reshape(len(z), -1)


def parse_payload(payload: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The payload read back in Python, to check the layout the JS reads: (header, name -> array)."""
    assert payload[:4] == b"VAEW"
    (length,) = struct.unpack("<I", payload[4:8])
    header = json.loads(payload[8:8 + length])
    start = 8 + length + (-(8 + length) % 4)
    floats = np.frombuffer(payload[start:], dtype="<f4")
    sizes = [int(np.prod(shape)) for _, shape in header["tensors"]]
    assert len(floats) == sum(sizes)
    parts = np.split(floats, np.cumsum(sizes)[:-1]) if sizes else []  # none for a decoder the server runs
    return header, {name: part.reshape(shape) for (name, shape), part in zip(header["tensors"], parts, strict=True)}


def test_weights_payload_is_the_decoder_exactly(shipped_root):
    for checkpoint in shipped(shipped_root):
        model = store.load_model(checkpoint, device="cpu")
        header, tensors = parse_payload(live_decoder.weights_payload(model, checkpoint.name))
        assert (header["id"], header["architecture"], header["latent_dim"]) == (
            checkpoint.name, model.config.architecture, model.config.latent_dim)
        assert header["layers"] == decoder_layers(model).ops and header["server"] is None  # the page runs it
        for name, array in tensors.items():
            assert np.array_equal(array, model.get_parameter(name).detach().numpy()), name
        if model.config.architecture == "mlp":  # the layout decodes: the MLP by hand here, every model in Node
            z = random_points(model.config.latent_dim, 0)
            w1, b1 = tensors["decoder_hidden.weight"], tensors["decoder_hidden.bias"]
            w2, b2 = tensors["decoder_out.weight"], tensors["decoder_out.bias"]
            logits = np.maximum(z @ w1.T + b1, 0) @ w2.T + b2
            pixels = explore.to_uint8(1 / (1 + np.exp(-np.clip(logits, -80, 80))))  # clipped: no overflow in exp
            assert np.abs(pixels.astype(int) - server_pixels(model, z)).max() <= 1


def node_pixels(folder: Path, payload: bytes, z: np.ndarray) -> np.ndarray:
    """The module the browser runs, run by Node on ``payload`` (parseWeights, then decode per point): [N, 784] ints.

    live_decoder.js and base.js sit side by side in ``folder`` as they are served, so its
    ``import ... from "./base.js"`` resolves.
    """
    node = shutil.which("node")
    if node is None:
        missing_prerequisite("node not found: install Node.js (apt-get install nodejs) for the JS unit test")
    for source in (JS, BASE_JS):
        shutil.copy(source, folder / source.name)
    (folder / "package.json").write_text('{"type": "module"}')  # .js files are ES modules here, as in the page
    (folder / "run.mjs").write_text(NODE_SCRIPT)
    (folder / "weights.bin").write_bytes(payload)
    (folder / "points.json").write_text(json.dumps(z.tolist()))
    done = subprocess.run([node, "run.mjs"], cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return np.asarray(json.loads(done.stdout), dtype=int)


NODE_SCRIPT = """
import { readFileSync } from "node:fs";
import { parseWeights, decode } from "./live_decoder.js";
const model = parseWeights(new Uint8Array(readFileSync("weights.bin")));
const points = JSON.parse(readFileSync("points.json", "utf8"));
process.stdout.write(JSON.stringify(points.map((z) => Array.from(decode(model, z)))));
"""


def test_the_js_decoder_equals_the_server_for_every_shipped_model(shipped_root, tmp_path):
    """The page's one interpreter, on each shipped model's layer list (the MLP's and the conv net's): 100
    random points per model, pixels within 2/255."""
    for seed, checkpoint in enumerate(shipped(shipped_root)):  # every architecture the page decodes
        model = store.load_model(checkpoint, device="cpu")
        z = random_points(model.config.latent_dim, seed)
        browser = node_pixels(tmp_path, live_decoder.weights_payload(model, checkpoint.name), z)
        difference = np.abs(browser - server_pixels(model, z).astype(int))
        assert browser.shape == (POINTS, 784) and difference.max() <= TOLERANCE, (checkpoint.name, difference.max())


def test_every_built_in_decoder_is_a_layer_list_the_page_runs():
    from vae_core.config import ModelConfig
    from vae_core.models import BUILTIN_MODELS, build_model

    for architecture in BUILTIN_MODELS:
        layers = decoder_layers(build_model(ModelConfig(3, hidden_dim=16, architecture=architecture)).eval())
        assert layers.ops is not None and layers.reason is None, (architecture, layers.reason)


def test_the_js_evaluates_no_strings_and_fetches_nothing():
    for path in (JS, BASE_JS):
        source = path.read_text()
        for forbidden in (r"\beval\(", r"new Function", r"innerHTML", r"\bfetch\(", r"XMLHttpRequest", r"import\("):
            assert not re.search(forbidden, source), (path.name, forbidden)
        imports = re.findall(r'^import \{[^}]*\} from "([^"]+)";', source, re.MULTILINE)
        assert len(re.findall(r"^import\b", source, re.MULTILINE)) == len(imports)
        assert imports == ([] if path == BASE_JS else ["./base.js"]), (path.name, imports)  # no other module


# --- the Python side, in AppTest --------------------------------------------------------------

READING = re.compile(r"Looks like an? \*\*(\d)\*\* \((\d+)%\)(, or .*)?")


def test_weights_are_mounted_once_then_only_when_the_page_lacks_them(monkeypatch, shipped_root, empty_data):
    names = {c.name for c in shipped(shipped_root)}
    app = choose_model(open_app(monkeypatch, shipped_root, empty_data, "explorer"), 2)
    weights, [(view, data)] = live_components(app)
    [payload] = weights
    header, _ = parse_payload(payload)
    assert header["id"] == data["model"] and header["id"] in names  # only a listed checkpoint's weights
    browser_reports(app, view, {"held": [data["model"]]})
    weights, [(_, data)] = live_components(app)
    assert weights == [] and data["held"] == [header["id"]]
    choose_model(app, 5)
    weights, [(_, data)] = live_components(app)  # a new model: its weights only
    assert [parse_payload(w)[0]["id"] for w in weights] == [data["model"]] != [header["id"]]


def test_a_reported_point_moves_the_caption_and_the_reading(monkeypatch, shipped_root, empty_data):
    checkpoint = next(c for c in shipped(shipped_root) if c.model_config.latent_dim == 2)
    model = store.load_model(checkpoint, device="cpu")
    app = choose_model(open_app(monkeypatch, shipped_root, empty_data, "explorer"), 2)
    _, [(view, data)] = live_components(app)
    before = [m.value for m in app.markdown if READING.fullmatch(m.value)]
    browser_reports(app, view, {"point": {"signature": data["signature"], "values": {"0": 2.0, "1": -1.5}}})
    assert any(c.value.startswith("Decoded digit at z = (2.00, -1.50)") for c in app.caption)
    [after] = [m.value for m in app.markdown if READING.fullmatch(m.value)]
    assert [after] != before
    from dashboard.shell import ui
    from dashboard.shell.cache import classifier

    expected = ui.reading_of(model, torch.tensor([2.0, -1.5]), classifier("mnist")[0], "mnist")
    assert after == expected
    browser_reports(app, view, {"point": {"signature": "another start point", "values": {"0": -3.0, "1": 3.0}}})
    assert any(c.value.startswith("Decoded digit at z = (2.00, -1.50)") for c in app.caption)  # stale: ignored


def test_a_new_start_point_is_pushed_to_the_page(monkeypatch, shipped_root, empty_data):
    checkpoint = next(c for c in shipped(shipped_root) if c.model_config.latent_dim == 2)
    app = choose_model(open_app(monkeypatch, shipped_root, empty_data, "explorer"), 2)
    _, [(_, first)] = live_components(app)
    app.radio(key="start").set_value("Test digit").run()
    app.number_input(key="digit").set_value(7).run()
    _, [(_, moved)] = live_components(app)
    mu = store.read_arrays_artifact(checkpoint, "projections.npz")["mu"][7]
    assert moved["signature"] != first["signature"]
    assert moved["base"] == pytest.approx(mu.tolist(), abs=1e-6)
    assert [moved["values"][k] for k in ("0", "1")] == pytest.approx([round(v / 0.05) * 0.05 for v in mu], abs=1e-6)


def test_the_hover_plane_of_a_larger_model_uses_the_chosen_dimensions(monkeypatch, shipped_root, empty_data):
    app = choose_model(open_app(monkeypatch, shipped_root, empty_data, "explorer"), 10)
    _, [(_, data)] = live_components(app)
    assert len(data["dims"]) == 8 and (data["plane"]["x"], data["plane"]["y"]) == tuple(data["dims"][:2])
    app.selectbox(key="plane_x").set_value(data["dims"][3]).run()
    _, [(_, moved)] = live_components(app)
    assert moved["plane"]["x"] == data["dims"][3] and moved["plane"]["y"] != moved["plane"]["x"]
    assert len(moved["plane"]["points"]["x"]) == len(moved["plane"]["points"]["labels"]) > 1000


def test_compare_walks_every_model_between_the_same_test_digits(monkeypatch, shipped_root, empty_data):
    models = default_columns(shipped(shipped_root))
    app = open_app(monkeypatch, shipped_root, empty_data, "compare")
    app.number_input(key="walk_from").set_value(3).run()
    app.number_input(key="walk_to").set_value(9).run()
    weights, [(_, data)] = live_components(app)
    assert sorted(parse_payload(w)[0]["id"] for w in weights) == sorted(c.name for c in models)
    assert [walk["model"] for walk in data["walks"]] == [c.name for c in models]
    for checkpoint, walk in zip(models, data["walks"], strict=True):
        mu = store.read_arrays_artifact(checkpoint, "projections.npz")["mu"]
        assert walk["start"] == pytest.approx(mu[3].tolist(), abs=1e-6)
        assert walk["end"] == pytest.approx(mu[9].tolist(), abs=1e-6)
    app.radio(key="walk").set_value("Along a random direction").run()
    _, [(_, direction)] = live_components(app)
    for walk in direction["walks"]:
        start, end = np.asarray(walk["start"]), np.asarray(walk["end"])
        assert np.linalg.norm(end) == pytest.approx(3.0, rel=1e-5) and np.allclose(start, -end)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
@pytest.mark.parametrize("latent_dim, hidden_dim", [(2, 16), (20, 400)])
def test_the_built_in_decoders_declared_op_lists_are_what_tracing_gives(architecture, latent_dim, hidden_dim):
    """The server never traces a built-in model (torch.fx patches nn.Module for every thread while it traces)."""
    from vae_core.config import ModelConfig
    from vae_core.layer_list import decoder_layers
    from vae_core.models import build_model

    model = build_model(ModelConfig(latent_dim=latent_dim, hidden_dim=hidden_dim, architecture=architecture))
    declared, traced = decoder_layers(model), decoder_layers(model, trace=True)
    assert declared.reason is None and declared.ops == traced.ops
