"""The Streamlit app driven by AppTest: every page, against tiny checkpoints and the shipped ones.

Streamlit caches live for the whole test process; every cache is keyed by the checkpoint
and data paths, so tests that point the environment elsewhere never see each other's data.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.training import seed_report
from tests.streamlit_internals import chart_spec, component_bytes, component_views, send_component_state
from vae_core import store

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ("overview", "training", "generate", "reconstruct", "latent_map", "explorer", "traversals", "arithmetic",
         "compare")
TIMEOUT = 120  # the first run of a process imports torch, which is slow on a busy machine


def open_app(monkeypatch, checkpoint_root: Path, data_dir: Path, page: str = "overview") -> AppTest:
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(checkpoint_root))
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page != "overview":
        app.switch_page(f"{page}/page.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def explorer_view(app: AppTest):
    """(element, data) of the live explorer: its dims, their values, labels, base point and signature."""
    _, [(element, data)] = live_components(app)
    return element, data


def slider_values(app: AppTest) -> list[float]:
    """The values the explorer's sliders show, in their order (most informative first)."""
    data = explorer_view(app)[1]
    return [data["values"][str(dim)] for dim in data["dims"]]


def report_point(app: AppTest, values: dict[int, float]) -> AppTest:
    """The page reports these slider values (on release), as the live explorer does."""
    element, data = explorer_view(app)
    return browser_reports(app, element, {"point": {"signature": data["signature"],
                                                    "values": {str(d): float(v) for d, v in values.items()}}})


def point_caption(app: AppTest) -> str:
    """The explorer's caption of the point last reported: 'Decoded digit at z = (…)' ('Decoded item' on Fashion)."""
    [caption] = [c.value for c in app.caption if c.value.startswith(("Decoded digit at", "Decoded item at"))]
    return caption


def unbundle(data: bytes) -> list[bytes]:
    """The weights payloads in one bundle the page receives (b"VAEB", then u32 length + payload each)."""
    payloads, offset = [], 4
    while data and offset < len(data):
        (length,) = struct.unpack("<I", data[offset:offset + 4])
        payloads.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    return payloads


def live_components(app: AppTest) -> tuple[list[bytes], list]:
    """([weights payload sent this run, one per model], [(element, data) of each view]) of the live decoder."""
    weights = [p for _, payload in component_bytes(app, "vae_live_decoder") for p in unbundle(payload)]
    return weights, component_views(app, "vae_live_decoder")


def browser_reports(app: AppTest, element, state: dict) -> AppTest:
    """Send the live view's state (what setStateValue sends from the page) and rerun, as the browser does."""
    send_component_state(app, element, state)
    assert not app.exception, [e.value for e in app.exception]
    return app


def choose_model(app: AppTest, latent_dim: int) -> AppTest:
    """Pick the sidebar's MNIST MLP with beta 1 at ``latent_dim`` ('MNIST · z = 2', or 'MNIST · MLP, z = 2' beside
    other families)."""
    box = app.sidebar.selectbox[-1]
    wanted = (f"MNIST · z = {latent_dim}", f"MNIST · MLP, z = {latent_dim}")
    return box.select_index(next(i for i, label in enumerate(box.options) if label in wanted)).run()


def test_every_page_renders_for_the_tiny_models(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data)
    assert len(app.dataframe[0].value) == 2  # z=2 and z=3 in the models table
    assert "Model" in [s.label for s in app.sidebar.selectbox]
    app.switch_page("training/page.py").run()
    assert len(app.get("plotly_chart")) == 4 and "nats" in app.caption[0].value
    assert app.dataframe[0].value["seed report (as printed)"].iloc[0] == pytest.approx(544.472)
    specs = {chart.key: chart_spec(chart) for chart in app.get("plotly_chart")}
    assert [t["name"] for t in specs["training_loss"]["data"]] == ["our train loss", "our test loss"]
    assert specs["training_seed_report"]["data"][0]["y"] == pytest.approx(list(seed_report.SEED_REPORT_LOSS))  # own
    split_layout = specs["training_split"]["layout"]
    assert split_layout["yaxis"]["rangemode"] == split_layout["yaxis2"]["rangemode"] == "tozero"
    app.switch_page("generate/page.py").run()
    assert len(app.image) == 1 and len(app.get("download_button")) == 1
    app.switch_page("latent_map/page.py").run()
    assert len(map_data(app)["points"]["rows"]) == 200  # every test mean, drawn in the page
    assert app.radio[0].options == ["Latent coordinates", "t-SNE", "UMAP"]  # z=2
    app.switch_page("explorer/page.py").run()
    weights, [(_, view)] = live_components(app)  # one explorer: the page decodes, no server slider, no plotly plane
    assert len(weights) == 1 and view["dims"] == [0, 1] and view["plane"]["x"] == 0
    assert not [s for s in app.slider if s.label.startswith("z[")]
    assert not app.get("plotly_chart") and not app.toggle
    app.switch_page("compare/page.py").run()
    assert [h.value for h in app.subheader if h.value.startswith("z = ")] == ["z = 2", "z = 3"]
    maps = component_views(app, "vae_canvas")
    assert len(maps) == 2 and len(app.get("plotly_chart")) == 2 and not app.exception  # canvas maps, two overlays


def test_generate_seed_changes_the_grid_and_same_seed_repeats_it(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "generate")
    first = app.image[0].value[0]
    app.number_input(key="seed").set_value(1).run()
    assert app.image[0].value[0] != first
    app.number_input(key="seed").set_value(0).run()
    assert app.image[0].value[0] == first


@pytest.mark.parametrize("latent_dim", [2, 3])
def test_a_reported_slider_value_moves_the_point(monkeypatch, tiny_checkpoint_root, empty_data, latent_dim):
    app = choose_model(open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer"), latent_dim)
    dims = explorer_view(app)[1]["dims"]
    assert len(dims) == latent_dim
    before, original = point_caption(app), slider_values(app)[0]
    report_point(app, {dims[0]: 2.5})
    assert point_caption(app) != before and "2.50" in point_caption(app)
    report_point(app, {dims[0]: original})
    assert point_caption(app) == before  # same point, same caption: the server follows the page


def test_switching_model_changes_the_page_and_carries_across_pages(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer")
    assert app.title[0].value.endswith("z = 2") and len(slider_values(app)) == 2
    choose_model(app, 3)
    assert app.title[0].value.endswith("z = 3") and len(slider_values(app)) == 3
    assert {"Horizontal dimension", "Vertical dimension"} <= {s.label for s in app.selectbox}
    app.slider(key="shown").set_value(2).run()
    assert len(slider_values(app)) == 2 and any("without a slider stay" in c.value for c in app.caption)
    app.slider(key="shown").set_value(3).run()
    assert not any("without a slider" in c.value for c in app.caption)  # every dimension has one
    app.switch_page("generate/page.py").run()
    assert app.title[0].value.endswith("z = 3")


def test_base_point_from_a_test_digit_moves_the_sliders(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer")
    assert slider_values(app) == [0.0, 0.0]
    app.radio(key="start").set_value("Test digit").run()
    app.number_input(key="digit").set_value(5).run()
    arrays = store.read_arrays_artifact(store.scan(tiny_checkpoint_root)[0][0], "projections.npz")
    expected = [round(float(v) / 0.05) * 0.05 for v in arrays["mu"][5]]
    assert slider_values(app) == pytest.approx(expected, abs=1e-6)


def test_selecting_map_points_shows_their_digits(monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "latent_map")
    assert "Nothing selected yet." in [m.value for m in app.markdown]
    browser_reports(app, map_element(app), {"selection": [{"row": 7}, {"row": 17}]})  # a click, a shift-click
    assert any(c.value.startswith("2 selected: #7 (7), #17 (7)") for c in app.caption)
    assert [i.captions[0] for i in app.image] == ["Originals", "Decoded posterior means"]
    app.radio(key="map").set_value("t-SNE").run()
    assert not app.exception and map_data(app)["title"].startswith("t-SNE")


def map_element(app: AppTest):
    """The latent map: our canvas component's map view (drawn in the page)."""
    [element] = [element for element, data in component_views(app, "vae_canvas") if data["view"] == "map"]
    return element


def map_data(app: AppTest) -> dict:
    [data] = [data for _, data in component_views(app, "vae_canvas") if data["view"] == "map"]
    return data


def map_title(app: AppTest) -> str:
    return map_data(app)["title"]


def test_latent_map_offers_latent_coordinates_for_z2_and_pca_above(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map")
    assert app.radio(key="map").value == "Latent coordinates"
    assert "no projection needed" in map_title(app)
    choose_model(app, 3)
    assert app.radio(key="map").options == ["PCA", "t-SNE", "UMAP"]
    assert app.radio(key="map").value == "PCA" and map_title(app).startswith("PCA")
    app.radio(key="map").set_value("t-SNE").run()
    choose_model(app, 2)
    assert app.radio(key="map").value == "t-SNE" and map_title(app).startswith("t-SNE")
    assert not app.exception


def test_without_a_dataset_pages_say_what_is_missing_and_still_work(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "reconstruct")
    notes = [i.value for i in app.info]
    assert any("VAE_DATA_DIR" in n and str(empty_data) in n for n in notes)
    assert [i.captions[0].startswith("Reconstructions") for i in app.image] == [True]  # decoded means only
    app.switch_page("explorer/page.py").run()
    assert "Test digit" in app.radio(key="start").options  # from the cached means
    assert not app.exception and len(app.image) == 2  # manifold grid, interpolation strip
    assert len(live_components(app)[1]) == 1  # the digit: decoded in the page
    app.switch_page("overview/page.py").run()
    assert any("VAE_DATA_DIR" in i.value for i in app.info)


def test_with_the_dataset_originals_appear(monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "reconstruct")
    assert [i.captions[0].split()[0] for i in app.image] == ["Original", "Reconstructions"]
    app.switch_page("overview/page.py").run()
    assert any("test images are in VAE_DATA_DIR" in s.value for s in app.success)


def test_a_test_set_of_the_same_size_but_other_digits_shows_no_originals(monkeypatch, tiny_checkpoint_root,
                                                                           fake_mnist_dir):
    # The models' test set, one digit shifted: as many images, other labels in each place (a set registered again).
    data = fake_mnist_dir
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        path = data / "MNIST" / "raw" / name
        header = 16 if "images" in name else 8
        raw = path.read_bytes()
        width = 784 if "images" in name else 1
        path.write_bytes(raw[:header] + raw[header + width:] + raw[header:header + width])
    app = open_app(monkeypatch, tiny_checkpoint_root, data, "reconstruct")
    assert [i.captions[0].split()[0] for i in app.image] == ["Reconstructions"]  # decoded means only
    assert any(i.value.startswith("Original test digits are hidden: the mnist test set here holds other digits than "
                                  "this model's cached means") for i in app.info), [i.value for i in app.info]


@pytest.mark.parametrize("page", PAGES)
def test_without_checkpoints_every_page_says_how_to_train(monkeypatch, tmp_path, empty_data, page):
    app = open_app(monkeypatch, tmp_path / "nothing-here", empty_data, page)
    assert any("vae-explorer train" in i.value for i in app.info)


def test_an_unreadable_checkpoint_directory_is_an_error_not_a_crash(monkeypatch, tmp_path, empty_data):
    def refuse(root):
        raise store.CheckpointError(f"cannot read the checkpoint directory {root}: fix its permissions")

    monkeypatch.setattr(store, "scan", refuse)
    app = open_app(monkeypatch, tmp_path / "locked", empty_data, "explorer")
    assert any("cannot read the checkpoint directory" in e.value for e in app.error)
    assert any("vae-explorer train" in i.value for i in app.info)


def test_broken_checkpoint_folders_are_reported_and_skipped(monkeypatch, tmp_path, tiny_checkpoint_root, empty_data):
    root = tmp_path / "checkpoints"
    good = store.scan(tiny_checkpoint_root)[0][0]
    shutil.copytree(good.path, root / good.name)
    (root / "half-written").mkdir()
    (root / "half-written" / "config.json").write_text("{not json")
    app = open_app(monkeypatch, root, empty_data)
    assert len(app.dataframe[0].value) == 1
    assert any("half-written" in w.value for w in app.warning)


def test_a_checkpoint_written_while_the_app_runs_appears(monkeypatch, tmp_path, tiny_checkpoint_root, empty_data):
    root = tmp_path / "checkpoints"
    first, second = store.scan(tiny_checkpoint_root)[0]
    shutil.copytree(first.path, root / first.name)
    app = open_app(monkeypatch, root, empty_data)
    assert len(app.dataframe[0].value) == 1
    shutil.copytree(second.path, root / second.name)
    app.run()
    assert len(app.dataframe[0].value) == 2 and app.sidebar.selectbox[-1].options == ["MNIST · z = 2", "MNIST · z = 3"]


def test_dataset_picker_appears_with_two_datasets(monkeypatch, tmp_path, tiny_checkpoint_root, empty_data):
    root = tmp_path / "checkpoints"
    mnist = store.scan(tiny_checkpoint_root)[0][0]
    shutil.copytree(mnist.path, root / mnist.name)
    fashion = root / mnist.name.replace("mnist", "fashion-mnist")
    shutil.copytree(mnist.path, fashion)
    config = json.loads((fashion / "config.json").read_text())
    config["train"]["dataset"] = "fashion-mnist"
    (fashion / "config.json").write_text(json.dumps(config))
    app = open_app(monkeypatch, root, empty_data)
    picker = app.sidebar.selectbox[0]
    assert picker.label == "Dataset" and picker.options == ["mnist", "fashion-mnist"]
    assert app.subheader[0].value == "Cached models (mnist)"
    app.sidebar.selectbox[0].set_value("fashion-mnist").run()
    assert app.subheader[0].value == "Cached models (fashion-mnist)" and len(app.dataframe[0].value) == 1
    app.switch_page("generate/page.py").run()
    assert app.sidebar.selectbox[0].value == "fashion-mnist" and not app.exception


def shipped(shipped_root: Path, architecture: str | None = None) -> list:
    """The shipped checkpoints (of one architecture when given), in the sidebar's order."""
    checkpoints, _ = store.scan(shipped_root)
    assert checkpoints, f"no shipped checkpoints in {shipped_root}"
    return [c for c in checkpoints if architecture in (None, c.model_config.architecture)]


def default_columns(checkpoints: list) -> list:
    """What Compare shows first: the MNIST MLPs with beta 1, one column per latent size."""
    return [c for c in checkpoints if c.train_config.dataset == "mnist" and c.model_config.architecture == "mlp"
            and c.train_config.beta == 1]


def test_every_page_renders_for_the_shipped_models(monkeypatch, shipped_root, empty_data):
    models = shipped(shipped_root)
    app = open_app(monkeypatch, shipped_root, empty_data)
    assert len(app.dataframe[0].value) == len([c for c in models if c.train_config.dataset == "mnist"])
    for page in PAGES[1:]:
        app.switch_page(f"{page}/page.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
    columns = [h.value for h in app.subheader if h.value.startswith("z = ")]
    assert columns == [f"z = {c.model_config.latent_dim}" for c in default_columns(models)]


def test_a_reported_slider_moves_the_point_for_every_shipped_model(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "explorer")
    for dataset in dict.fromkeys(c.train_config.dataset for c in shipped(shipped_root)):
        if len(app.sidebar.selectbox) > 1:  # the data set picker appears with two data sets
            app.sidebar.selectbox(key="dataset").set_value(dataset).run()
        box = app.sidebar.selectbox(key="model")
        labels = list(box.options)
        assert len(labels) == len([c for c in shipped(shipped_root) if c.train_config.dataset == dataset])
        for index, label in enumerate(labels):
            app.sidebar.selectbox(key="model").select_index(index).run()
            assert app.title[0].value.endswith(label), (app.title[0].value, label)
            latent_dim = int(label.split("z = ")[1].split(",")[0])
            assert len(slider_values(app)) == min(latent_dim, 8)
            before = point_caption(app)
            report_point(app, {explorer_view(app)[1]["dims"][0]: 2.0})
            assert not app.exception and point_caption(app) != before
