"""Our canvas component driven by AppTest: the latent map with thumbnails and the Your digit page.

The browser's side (hover, a click, a drawn stroke) is what ``browser_reports`` sends: the
state the component's setStateValue would send.
"""

from __future__ import annotations

import io
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dashboard.components import canvas
from dashboard.shell import points
from dashboard.your_digit import own_digit
from tests.streamlit_internals import component_bytes, component_views
from tests.test_dashboard import browser_reports, choose_model, live_components, open_app
from tests.test_links import follow_link
from vae_core import digits, store
from vae_core.data import load_split


def canvas_mounts(app) -> tuple[list[bytes], list]:
    """([sprite payloads sent this run], [(element, data) of each view]) of the canvas component."""
    sprites = [payload for _, payload in component_bytes(app, "vae_canvas") if payload]
    return sprites, component_views(app, "vae_canvas")


def view(app, kind: str):
    found = [(element, data) for element, data in canvas_mounts(app)[1] if data["view"] == kind]
    assert len(found) == 1, [data["view"] for _, data in canvas_mounts(app)[1]]
    return found[0]


def sprite_image(payload: bytes) -> tuple[dict, np.ndarray]:
    assert payload[:4] == b"VAES"
    (length,) = struct.unpack("<I", payload[4:8])
    header = json.loads(payload[8:8 + length])
    return header, np.asarray(Image.open(io.BytesIO(payload[8 + length:])))


# The Your digit page's pictures of an encoded digit: it, its reconstruction, its 8 nearest test digits' thumbnails
DRAWN = ["As MNIST would store it", "Decoded from its mean"] + [""] * 8


def stroke_pixels() -> list[int]:
    """A 7 drawn on the pad: 784 grey levels, as the pad reports them."""
    image = Image.new("L", (112, 112), 0)
    draw = ImageDraw.Draw(image)
    draw.line([(30, 20), (80, 20), (50, 95)], fill=255, width=9)
    return np.asarray(image.resize((28, 28), Image.Resampling.BOX)).reshape(-1).astype(int).tolist()


def upload_png() -> bytes:
    image = Image.new("L", (120, 160), 250)
    ImageDraw.Draw(image).line([(60, 20), (60, 140)], fill=10, width=14)  # a 1 on white paper
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_map_draws_every_test_mean_and_sends_the_thumbnails_once(monkeypatch, tiny_checkpoint_root,
                                                                       fake_mnist_dir):
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "latent_map")
    [payload], _ = canvas_mounts(app)
    element, data = view(app, "map")
    assert len(data["points"]["rows"]) == 200 and data["points"]["rows"][:3] == [0, 1, 2]
    assert data["axes"] == ["z[0] (posterior mean)", "z[1] (posterior mean)"]
    assert data["selection"] == [] and data["hidden"] == []
    assert data["selectable"]  # the page shows the selected digits
    header, sheet = sprite_image(payload)
    assert header == {"id": data["sprite"], "count": 200, "columns": 100, "channels": 1, "side": 28}
    assert sheet.shape == (2 * 28, 100 * 28)
    test = load_split("mnist", train=False, data_dir=fake_mnist_dir)
    tile = sheet[28:56, 7 * 28:8 * 28]  # digit 107: row 1, column 7
    assert np.abs(tile.astype(int) - np.rint(test.images[107].numpy().reshape(28, 28) * 255)).max() <= 1

    sprite_mount = next(element for element, _ in component_bytes(app, "vae_canvas"))
    browser_reports(app, sprite_mount, {"held": [data["sprite"]]})
    assert canvas_mounts(app)[0] == []  # the page holds the thumbnails: not sent again

    element, _ = view(app, "map")
    browser_reports(app, element, {"selection": [{"row": 7}, {"row": 17}]})  # a click, then a shift-click
    assert any(c.value.startswith("2 selected: #7 (7), #17 (7)") for c in app.caption)
    assert [i.captions[0] for i in app.image] == ["Originals", "Decoded posterior means"]
    assert view(app, "map")[1]["selection"] == [{"row": 7}, {"row": 17}]  # the page rings them

    app.radio(key="map").set_value("t-SNE").run()
    arrays = store.read_arrays_artifact(store.scan(tiny_checkpoint_root)[0][0], "projections.npz")
    assert view(app, "map")[1]["points"]["rows"] == arrays["tsne_index"].tolist()
    assert "Nothing selected yet." in [m.value for m in app.markdown]  # each map keeps its own selection


def test_without_the_test_images_the_map_has_no_thumbnails_and_says_why(monkeypatch, tiny_checkpoint_root,
                                                                         empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map")
    sprites, _ = canvas_mounts(app)
    assert sprites == [] and view(app, "map")[1]["sprite"] is None
    [note] = [i.value for i in app.info]
    assert note.startswith("Thumbnails") and "VAE_DATA_DIR" in note and "\n" not in note
    element, _ = view(app, "map")
    browser_reports(app, element, {"selection": [{"row": 3}]})
    assert [i.captions[0] for i in app.image] == [  # the clicked digit, then its neighbours: from the cached means
        "Decoded posterior means", "Decoded posterior means (the test images are not loaded)"]


def test_a_forged_selection_selects_only_test_rows_and_a_malformed_one_nothing(monkeypatch, tiny_checkpoint_root,
                                                                                 empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map")
    element, _ = view(app, "map")
    browser_reports(app, element, {"selection": [{"row": 3}, {"row": 3}, {"row": 199}, {"row": 10**6}]})
    assert any(c.value.startswith("2 selected: #3 (3), #199 (9)") for c in app.caption)
    for forged in ("everything", [{"row": 3}, "../x"], [{"row": -1}], [{"row": True}], [{"row": 3.5}],
                   [{"box": [0, 0, "1", 1]}], [{"box": [1, 0, 0, 1]}], [{"lasso": [[0, 0], [1, 1]]}],
                   [{"row": 3, "box": [0, 0, 1, 1]}], [{"row": 3}] * 9):
        browser_reports(app, element, {"selection": forged})
        assert "Nothing selected yet." in [m.value for m in app.markdown], forged


def test_a_drawn_digit_is_encoded_decoded_and_placed_on_the_map(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "your_digit")
    assert any("Nothing to encode yet" in i.value for i in app.info) and not app.image
    pad, data = view(app, "draw")
    assert data["pixels"] is None and view(app, "map")[1]["marker"] is None  # the map waits for the star
    assert not view(app, "map")[1]["selectable"]  # this page has nothing to show for a selection
    browser_reports(app, pad, {"pixels": stroke_pixels()})
    assert [i.captions[0] for i in app.image] == DRAWN
    assert any("train-classifier" in c.value for c in app.caption)  # no classifier in the tiny root: how to get one
    marker = view(app, "map")[1]["marker"]
    assert marker["label"] == "your digit" and all(np.isfinite([marker["x"], marker["y"]]))
    assert view(app, "draw")[1]["pixels"] == stroke_pixels()  # kept, to paint back on a fresh pad

    browser_reports(app, pad, {"pixels": [0] * 784})  # the pad's Clear button
    assert any("Nothing to encode yet" in i.value for i in app.info) and not app.image


def test_the_classifier_reads_the_drawing_and_its_reconstruction(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "your_digit")
    browser_reports(app, view(app, "draw")[0], {"pixels": stroke_pixels()})
    readings = [m.value for m in app.markdown if m.value.startswith("Looks like")]
    assert len(readings) == 2, readings
    assert "train-classifier" not in " ".join(c.value for c in app.caption)


def test_explore_from_here_starts_the_explorer_at_the_digit(monkeypatch, tiny_checkpoint_root, empty_data):
    app = choose_model(open_app(monkeypatch, tiny_checkpoint_root, empty_data, "your_digit"), 3)
    browser_reports(app, view(app, "draw")[0], {"pixels": stroke_pixels()})
    assert follow_link(app, "Explore from here")["start"] == points.OWN_DIGIT
    assert app.title[0].value == "Latent explorer: MNIST · z = 3"
    assert app.radio(key="start").value == points.OWN_DIGIT
    model = store.load_model(store.scan(tiny_checkpoint_root)[0][1])
    mu, _ = own_digit.encode(model, digits.from_drawing(stroke_pixels()))
    _, [(_, live)] = live_components(app)
    assert live["base"] == pytest.approx(mu.tolist(), abs=1e-4)  # through the URL: 4 decimals
    assert [live["values"][str(d)] for d in live["dims"]] == pytest.approx(
        [points.clip_to_sliders(mu[d]) for d in live["dims"]])
    app.switch_page("explorer/page.py")  # AppTest would return to the page it last switched to
    choose_model(app, 2)  # the digit was encoded by the z = 3 model: not a start point of another
    assert points.OWN_DIGIT not in app.radio(key="start").options


def test_an_upload_is_encoded_and_a_non_image_is_a_one_line_error(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "your_digit")
    app.file_uploader(key="draw_upload").upload("one.png", upload_png(), "image/png").run()
    assert not app.exception
    assert [i.captions[0] for i in app.image] == DRAWN
    app.file_uploader(key="draw_upload").set_value(("notes.png", b"this is not a picture", "image/png")).run()
    assert not app.exception and not app.image
    [error] = [e.value for e in app.error]
    assert "not a readable PNG or JPEG" in error and "\n" not in error


def test_the_map_position_of_a_mean_is_the_cached_pca(tiny_checkpoint_root):
    checkpoint = store.scan(tiny_checkpoint_root)[0][1]  # z = 3: a PCA map
    arrays = store.read_arrays_artifact(checkpoint, "projections.npz")
    projection = own_digit.map_projection(arrays, 3)
    for row in (0, 50, 199):
        position = own_digit.map_position(projection, np.asarray(arrays["mu"][row], dtype=np.float64))
        assert position == pytest.approx(tuple(arrays["pca"][row]), abs=0.02)
    assert own_digit.map_position(own_digit.map_projection(None, 2), np.array([0.5, -1.0])) == (0.5, -1.0)


def test_the_canvas_js_evaluates_no_strings_and_fetches_nothing():
    source = (Path(canvas.__file__).with_name("canvas.js")).read_text()
    for forbidden in (r"\beval\(", r"new Function", r"innerHTML", r"outerHTML", r"\bfetch\(", r"XMLHttpRequest",
                      r"import\(", r"document\.write", r"https?://"):
        assert not re.search(forbidden, source), forbidden


def test_every_shipped_model_encodes_a_drawing(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "your_digit")
    pixels, seen = stroke_pixels(), []
    for dataset in app.sidebar.selectbox(key="dataset").options if len(app.sidebar.selectbox) > 1 else [None]:
        if dataset is not None:
            app.sidebar.selectbox(key="dataset").set_value(dataset).run()
        for index, label in enumerate(app.sidebar.selectbox(key="model").options):
            app.sidebar.selectbox(key="model").select_index(index).run()
            browser_reports(app, view(app, "draw")[0], {"pixels": pixels})
            assert [i.captions[0] for i in app.image] == DRAWN, label
            marker = view(app, "map")[1]["marker"]
            assert np.isfinite([marker["x"], marker["y"]]).all(), label
            seen.append(app.title[0].value)
    assert len(set(seen)) == len(store.scan(shipped_root)[0])  # every model, conv ones included


def test_without_checkpoints_the_your_digit_page_says_how_to_train(monkeypatch, tmp_path, empty_data):
    app = open_app(monkeypatch, tmp_path, empty_data, "your_digit")
    assert any("train" in i.value.lower() for i in app.info) and not canvas_mounts(app)[1]


# --- what a map says about the data it draws, and the small maps of a grid (Compare) ---------------------------

def test_a_model_switch_feeds_the_map_new_points_under_a_new_fingerprint(monkeypatch, tiny_checkpoint_root,
                                                                           empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map")
    models = app.sidebar.selectbox[-1]
    models.select_index(0).run()
    first = view(app, "map")[1]
    assert len(first["points"]["id"]) == 16  # 16 hex digits of the coordinates, rows and classes
    assert first["alt"].startswith("Latent map") and first["alt"].endswith(", 200 points coloured by class")
    app.sidebar.selectbox[-1].select_index(1).run()
    second = view(app, "map")[1]
    assert second["model"] != first["model"]
    assert second["points"]["id"] != first["points"]["id"]  # the page replaces the points, whatever the key
    assert second["points"]["x"] != first["points"]["x"]


def test_the_fingerprint_follows_the_coordinates_rows_and_classes():
    base = dict(x=np.arange(4.0), y=np.ones(4), rows=np.arange(4), labels=np.zeros(4, dtype=int),
                axes=("a", "b"), title="PCA of test means")
    same = canvas.MapPoints(**base).fingerprint
    assert canvas.MapPoints(**base).fingerprint == same and len(same) == 16
    for field, value in (("x", np.arange(4.0) + 1e-3), ("rows", np.arange(1, 5)), ("labels", np.ones(4, dtype=int))):
        assert canvas.MapPoints(**{**base, field: value}).fingerprint != same, field
    assert canvas.MapPoints(**{**base, "title": "another"}).fingerprint == same  # the data, not the words


def map_tiles_page(sprite: str | None = None) -> None:
    """Compare's call, as its docstring shows it: one small map per model, two models here."""
    import numpy as np
    import streamlit as st

    from dashboard.components import canvas

    names, colors = tuple(str(k) for k in range(10)), tuple(f"#{k}{k}{k}{k}{k}{k}" for k in range(10))
    for k, column in enumerate(st.columns(2)):
        rng = np.random.default_rng(k)
        points = canvas.MapPoints(rng.normal(size=50), rng.normal(size=50), np.arange(50), np.arange(50) % 10,
                                  ("t-SNE 1", "t-SNE 2"), "t-SNE of test means")
        with column:
            canvas.map_tile(points, names, colors, model=f"mnist-z{k + 2}", method="t-SNE", label=f"MNIST, z = {k + 2}",
                            sprite=sprite, width=220, height=200)


def test_map_tiles_are_compact_keyed_by_model_and_projection_and_say_what_they_show():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(map_tiles_page, args=("mnist-test-abc",)).run()
    assert not app.exception, [e.value for e in app.exception]
    tiles = [data for _, data in canvas_mounts(app)[1]]
    assert [data["key"] for data in tiles] == ["map_tile_mnist-z2_t-SNE", "map_tile_mnist-z3_t-SNE"]
    for k, data in enumerate(tiles):
        assert (data["model"], data["method"], data["sprite"]) == (f"mnist-z{k + 2}", "t-SNE", "mnist-test-abc")
        assert data["compact"] and not data["selectable"] and data["legend"] is False
        assert (data["width"], data["height"]) == (220, 200) and data["title"] == "t-SNE of test means"
        assert data["alt"] == f"Latent map of MNIST, z = {k + 2}: t-SNE of test means, 50 points coloured by class"
    assert tiles[0]["points"]["id"] != tiles[1]["points"]["id"]


def test_both_components_are_served_from_files_and_import_the_base_module():
    from dashboard.components import assets, live_decoder

    assert assets.served()
    for component, script in ((canvas, "canvas.js"), (live_decoder, "live_decoder.js")):
        source = (assets.HERE / script).read_text()
        assert re.search(r'^import \{[^}]*\} from "\./base\.js";$', source, re.MULTILINE), script
        assert component.NAME in {"vae_canvas", "vae_live_decoder"}


def test_the_inline_fallback_is_one_module_node_can_run(tmp_path):
    """Where Streamlit could not serve our files, base.js is pasted in place of the import: still one valid module."""
    import shutil
    import subprocess

    from dashboard.components import assets
    from tests.conftest import missing_prerequisite

    node = shutil.which("node")
    if node is None:
        missing_prerequisite("node not found: install Node.js (apt-get install nodejs) for the JS unit test")
    for script in ("canvas.js", "live_decoder.js"):
        bundled = assets.inline_js(script)
        assert "from \"./base.js\"" not in bundled and bundled.count("export function mountView") == 1
        assert bundled.count("export class Navigator") == (script == "canvas.js")  # map_zoom.js, once
        (tmp_path / f"inline-{script}.mjs").write_text(bundled)
        check = f'const m = await import("./inline-{script}.mjs"); process.exit(m.default instanceof Function ? 0 : 3);'
        done = subprocess.run([node, "--input-type=module", "-e", check], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, (script, done.stderr)


CAMERA_SCRIPT = """
import { MAX_ZOOM, cameraValue, home, panBy, project, zoomAbout } from "./map_zoom.js";
const bounds = [-4, 4, -3, 5]; // x0, x1, y0, y1
const area = { left: 50, top: 10, width: 600, height: 500 };
const window = (camera) => {
  const p = project(camera, bounds, area);
  return [p.fromX(area.left), p.fromX(area.left + area.width), p.fromY(area.top + area.height), p.fromY(area.top)];
};
const pixel = [420, 130];
let camera = home(bounds);
const before = project(camera, bounds, area);
const under = [before.fromX(pixel[0]), before.fromY(pixel[1])];
for (let k = 0; k < 30; k++) camera = zoomAbout(camera, 1.3, pixel, bounds, area);
const after = project(camera, bounds, area);
const far = panBy(camera, [1e6, -1e6], bounds, area);
process.stdout.write(JSON.stringify({
  max: MAX_ZOOM, zoom: camera.zoom, under: [after.toX(under[0]), after.toY(under[1])],
  home: window(home(bounds)), far: window(far), out: zoomAbout(camera, 1e-9, pixel, bounds, area),
  values: [cameraValue({ cx: 0.1234567891, cy: -2.5, zoom: 27.857618 }, 4),
    cameraValue({ cx: 1, cy: 1, zoom: 1.00004 }, 4), cameraValue({ cx: -1e-8, cy: 3, zoom: 200 }, 2)],
}));
"""


def test_the_maps_camera_is_bounded_and_zooms_about_the_cursor_in_node(tmp_path):
    """map_zoom.js's camera, run by Node: the wheel's point stays put, the zoom stops at canvas.MAX_ZOOM and at 1,
    a pan cannot leave what zoom 1 shows, and the reported form is one the URL takes back."""
    import shutil
    import subprocess

    from dashboard.components import assets
    from dashboard.latent_map import state
    from tests.conftest import missing_prerequisite

    node = shutil.which("node")
    if node is None:
        missing_prerequisite("node not found: install Node.js (apt-get install nodejs) for the JS unit test")
    for script in ("map_zoom.js", "base.js"):
        shutil.copy(assets.HERE / script, tmp_path / script)
    (tmp_path / "package.json").write_text('{"type": "module"}')
    (tmp_path / "run.mjs").write_text(CAMERA_SCRIPT)
    done = subprocess.run([node, "run.mjs"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["max"] == canvas.MAX_ZOOM and out["zoom"] == canvas.MAX_ZOOM  # 1.3 ** 30 asked for
    assert out["under"] == pytest.approx([420, 130], abs=1e-6)
    (x0, x1, y0, y1), (fx0, fx1, fy0, fy1) = out["home"], out["far"]
    assert fx0 == pytest.approx(x0) and fx1 < x1 and fy0 == pytest.approx(y0) and fy1 < y1  # stopped at the edge
    assert out["out"] == {"cx": 0, "cy": 1, "zoom": 1}  # zooming out stops at the whole map, centred
    value, whole, deepest = out["values"]
    assert value == [0.123457, -2.5, 27.86] and whole is None and deepest == [0, 3, 200]  # no "-0"
    for reported in (value, deepest):
        assert state.parse_viewport(state.viewport_text(reported)) == tuple(reported)
        assert canvas.viewport_value(reported) == tuple(reported)
