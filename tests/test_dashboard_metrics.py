"""Metrics on the pages: charts against latent size, the classifier's reading, labelled and nearest-image grids.

The shipped checkpoints carry metrics.json and a digit classifier; the tiny fixture has
neither, so its pages must say what is missing and keep working.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dashboard.shell import captions, images, points
from tests.streamlit_internals import chart_spec
from tests.test_dashboard import (
    choose_model,
    default_columns,
    explorer_view,
    open_app,
    report_point,
    shipped,
    slider_values,
)
from vae_core import evaluate, explore, store
from vae_core.classifier import classifier_name, load_classifier, predict_proba
from vae_core.data import load_split

READING = re.compile(r"Looks like an? \*\*(\d)\*\* \((\d+)%\)")


def metric_charts(app) -> dict[str, dict]:
    """Title -> plotly JSON of the charts drawn under 'Metrics against latent size'."""
    specs = [chart_spec(chart) for chart in app.get("plotly_chart")]
    labels = {label for _, label, _ in evaluate.SUMMARY_METRICS}
    return {spec["layout"]["title"]["text"]: spec for spec in specs
            if spec["layout"].get("title", {}).get("text") in labels}


def readings(app) -> list[str]:
    return [m.value for m in app.markdown if m.value.startswith("Looks like")]


# --- Compare models ------------------------------------------------------------------------

def test_compare_plots_every_metric_of_metrics_json_against_latent_size(monkeypatch, shipped_root, empty_data):
    models = default_columns(shipped(shipped_root))
    app = open_app(monkeypatch, shipped_root, empty_data, "compare")
    charts = metric_charts(app)
    assert sorted(charts) == sorted(label for _, label, _ in evaluate.SUMMARY_METRICS)
    sizes = sorted(c.model_config.latent_dim for c in models)
    for path, label, meaning in evaluate.SUMMARY_METRICS:
        trace = charts[label]["data"][-1]  # the measured line is drawn last, over any reference line
        assert trace["x"] == sizes, label
        expected = [evaluate.metric_value(evaluate.load_metrics(c), path)
                    for c in sorted(models, key=lambda c: c.model_config.latent_dim)]
        assert trace["y"] == pytest.approx(expected), label
        assert charts[label]["layout"]["xaxis"]["type"] == "log"
        assert captions.better_caption(meaning) in [c.value for c in app.caption]
    assert not any("metrics.json" in i.value for i in app.info)


def test_compare_without_metrics_says_how_to_compute_them(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "compare")
    notes = [i.value for i in app.info if "metrics.json" in i.value]
    assert len(notes) == 1 and notes[0].startswith("z = 2 and z = 3 have no metrics.json")
    assert "`vae-explorer evaluate`" in notes[0]
    assert metric_charts(app) == {}
    table = app.dataframe[0].value  # one row per metric: only what the history gives
    assert len(app.dataframe) == 1 and "test loss (nats)" in table.index and "NLL (IW)" not in table.index


def test_compare_with_some_models_evaluated_plots_those_and_names_the_others(monkeypatch, tmp_path, shipped_root,
                                                                              empty_data):
    root = tmp_path / "checkpoints"
    small = sorted(default_columns(shipped(shipped_root)), key=lambda c: c.model_config.latent_dim)[:2]
    for checkpoint in small:
        shutil.copytree(checkpoint.path, root / checkpoint.name)
    (root / small[1].name / "metrics.json").unlink()
    app = open_app(monkeypatch, root, empty_data, "compare")
    notes = [i.value for i in app.info if "metrics.json" in i.value]
    assert notes and notes[0].startswith(f"z = {small[1].model_config.latent_dim} has no metrics.json")
    charts = metric_charts(app)
    assert len(charts) == len(evaluate.SUMMARY_METRICS)
    assert charts["NLL (IW)"]["data"][-1]["x"] == [small[0].model_config.latent_dim]


# --- Latent explorer -----------------------------------------------------------------------

def direct_reading(shipped_root: Path, checkpoint, z: list[float]) -> tuple[int, int]:
    """(digit, percent) the classifier gives the decoded image of z, computed outside the app."""
    model = store.load_model(checkpoint, device="cpu")
    classifier, _ = load_classifier(shipped_root, "mnist")
    image = explore.decode(model, torch.tensor([z], dtype=torch.float32))
    probabilities = predict_proba(classifier, torch.as_tensor(image))[0]
    return int(probabilities.argmax()), round(float(probabilities.max()) * 100)


def test_explorer_reading_follows_the_sliders_on_the_shipped_2d_model(monkeypatch, shipped_root, empty_data):
    checkpoint = next(c for c in shipped(shipped_root) if c.model_config.latent_dim == 2)
    app = choose_model(open_app(monkeypatch, shipped_root, empty_data, "explorer"), 2)
    [text] = readings(app)
    match = READING.fullmatch(text)
    assert match, text
    start = slider_values(app)
    assert (int(match.group(1)), int(match.group(2))) == direct_reading(shipped_root, checkpoint, start)

    # a point of the plane the classifier reads as another digit
    first_digit = int(match.group(1))
    candidates = [[x, y] for x in (-2.0, -1.0, 1.0, 2.0) for y in (-2.5, -1.0, 1.0, 2.5)]
    other = next(z for z in candidates if direct_reading(shipped_root, checkpoint, z)[0] != first_digit)
    report_point(app, dict(zip(explorer_view(app)[1]["dims"], other, strict=True)))
    [moved] = readings(app)
    match = READING.fullmatch(moved)
    assert match and moved != text
    assert (int(match.group(1)), int(match.group(2))) == direct_reading(shipped_root, checkpoint, other)


def test_explorer_marks_exactly_the_inactive_dimensions_as_collapsed(monkeypatch, shipped_root, empty_data):
    checkpoint = max(shipped(shipped_root), key=lambda c: c.model_config.latent_dim)
    latent_dim = checkpoint.model_config.latent_dim
    metrics = evaluate.load_metrics(checkpoint)
    inactive = {d for d, v in enumerate(metrics["posterior_mean_variance"]) if v <= metrics["active_threshold"]}
    app = choose_model(open_app(monkeypatch, shipped_root, empty_data, "explorer"), latent_dim)
    app.slider(key="shown").set_value(latent_dim).run()
    view = explorer_view(app)[1]
    labels = dict(zip(view["dims"], view["labels"], strict=True))
    assert len(labels) == latent_dim
    assert {d for d, label in labels.items() if "collapsed" in label} == inactive
    assert len(inactive) == latent_dim - metrics["active_units"]
    if inactive:
        assert any(f"{len(inactive)} of {latent_dim} dimensions are collapsed" in c.value for c in app.caption)
    assert all(re.fullmatch(r"z\[\d+\] \(KL \d+\.\d\d nats\)( · collapsed)?", label) for label in labels.values())


def test_explorer_without_a_classifier_says_how_to_train_one(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "explorer")
    assert readings(app) == []
    notes = [c.value for c in app.caption if "vae-explorer train-classifier" in c.value]
    assert len(notes) == 1 and classifier_name("mnist") in notes[0]
    report_point(app, {explorer_view(app)[1]["dims"][0]: 1.0})  # the point still follows the sliders
    assert not app.exception and readings(app) == []


# --- Generate --------------------------------------------------------------------------------

def grid_url(app) -> str:
    [image] = app.image
    return image.value[0]


def test_generate_labels_toggle_draws_the_classifier_guesses(monkeypatch, shipped_root, empty_data):
    app = open_app(monkeypatch, shipped_root, empty_data, "generate")
    plain = grid_url(app)
    app.toggle(key="labels").set_value(True).run()
    assert not app.exception and grid_url(app) != plain
    assert captions.labels_caption("mnist") in [c.value for c in app.caption]
    assert "a digit the classifier cannot place" in captions.labels_caption("mnist")
    app.toggle(key="labels").set_value(False).run()
    assert grid_url(app) == plain and captions.labels_caption("mnist") not in [c.value for c in app.caption]


def test_generate_labels_without_a_classifier_keep_the_plain_grid(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "generate")
    plain = grid_url(app)
    app.toggle(key="labels").set_value(True).run()
    assert grid_url(app) == plain
    notes = [i.value for i in app.info if "vae-explorer train-classifier" in i.value]
    assert len(notes) == 1 and str(tiny_checkpoint_root / classifier_name("mnist")) in notes[0]


def test_generate_nearest_without_training_data_is_one_sentence(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_app(monkeypatch, tiny_checkpoint_root, empty_data, "generate")
    plain = grid_url(app)
    app.toggle(key="nearest").set_value(True).run()
    notes = [i.value for i in app.info if "training set" in i.value]
    assert len(notes) == 1 and str(empty_data) in notes[0] and "VAE_DATA_DIR" in notes[0]
    assert notes[0].count(". ") == 0 and grid_url(app) == plain  # one sentence, grid unchanged


def mean_distance_shown(app) -> float:
    [caption] = [c.value for c in app.caption if "nearest training image" in c.value]
    return float(re.search(r"mean (\d+\.\d\d) here", caption).group(1))


def expected_mean_distance(checkpoint, data_dir: Path, count: int) -> float:
    model = store.load_model(checkpoint, device="cpu")
    train = load_split(checkpoint.train_config.dataset, train=True, data_dir=data_dir, download=False)
    images = points.generated_images(model, seed=0, count=count, temperature=1.0)
    _, distances = evaluate.nearest_training_image(torch.as_tensor(images), train.images)
    return round(float(distances.mean()), 2)


def test_generate_nearest_with_a_training_set_shows_the_neighbours(monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    checkpoint = store.scan(tiny_checkpoint_root)[0][0]
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "generate")
    app.slider(key="count").set_value(12).run()
    plain = grid_url(app)
    app.toggle(key="nearest").set_value(True).run()
    assert not app.exception and grid_url(app) != plain
    assert mean_distance_shown(app) == pytest.approx(expected_mean_distance(checkpoint, fake_mnist_dir, 12))


def test_generate_nearest_on_real_mnist_quotes_the_metrics_baseline(monkeypatch, shipped_root, mnist_dir):
    checkpoint = next(c for c in shipped(shipped_root) if c.model_config.latent_dim == 2)
    app = choose_model(open_app(monkeypatch, shipped_root, mnist_dir, "generate"), 2)
    app.slider(key="count").set_value(10).run()
    app.toggle(key="labels").set_value(True).run()
    app.toggle(key="nearest").set_value(True).run()
    assert not app.exception and not [i.value for i in app.info if "training set" in i.value]
    assert mean_distance_shown(app) == pytest.approx(expected_mean_distance(checkpoint, mnist_dir, 10))
    assert any("For reference (metrics.json)" in c.value for c in app.caption)


# --- the Streamlit-free helpers ---------------------------------------------------------------

def test_reading_names_the_digit_its_probability_and_the_runner_up_when_unsure():
    sure = np.full(10, 0.04 / 9)
    sure[7] = 0.96
    assert captions.reading(sure) == "Looks like a **7** (96%)"
    unsure = np.zeros(10)
    unsure[[8, 3]] = [0.55, 0.45]
    assert captions.reading(unsure) == "Looks like an **8** (55%), or a **3** (45%)"


def test_collapsed_dims_from_metrics_then_from_kl_scores():
    metrics = {"posterior_mean_variance": [1.0, 0.005, 0.01, 0.3], "active_threshold": 0.01}
    assert points.collapsed_dims(4, metrics, np.ones(4)) == {1, 2}
    assert points.collapsed_dims(3, None, np.array([2.0, 0.001, 0.5])) == {1}
    assert points.collapsed_dims(3, None, np.zeros(3)) == set()  # nothing measured: nothing marked
    assert "collapsed" in captions.slider_label(1, np.array([2.0, 0.001]), {1})
    assert "collapsed" not in captions.slider_label(0, np.array([2.0, 0.001]), {1})


def test_annotated_grid_keeps_each_sample_and_adds_its_partner_and_text_rows():
    rng = np.random.default_rng(0)
    samples, partners = rng.random((5, 28, 28), dtype=np.float32), rng.random((5, 28, 28), dtype=np.float32)
    plain = np.asarray(Image.open(io.BytesIO(images.annotated_grid_png(samples, 3, factor=2))))
    full = np.asarray(Image.open(io.BytesIO(images.annotated_grid_png(
        samples, 3, [("7", 0.9)] * 5, partners, ["NN 1.00"] * 5, factor=2))))
    assert plain.shape[1] == full.shape[1] and full.shape[0] > 2 * plain.shape[0] - 10
    # the second sample (row 0, column 1) and, under it, its partner, pixel for pixel
    left, side = 2 + 58, 56
    expected = explore.upscale(explore.to_uint8(samples[1]), 2)
    assert np.array_equal(full[2:2 + side, left:left + side, 0], expected)
    below = explore.upscale(explore.to_uint8(partners[1]), 2)
    assert np.array_equal(full[2 + side + 2:2 + 2 * side + 2, left:left + side, 0], below)


def test_missing_train_files_names_the_folder_and_the_variable(tmp_path, fake_mnist_dir):
    sentence = captions.missing_train_files("mnist", tmp_path / "nowhere")
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in sentence and "VAE_DATA_DIR" in sentence
    assert captions.missing_train_files("mnist", fake_mnist_dir) is None


def test_missing_metrics_sentence_is_one_sentence_naming_the_command():
    assert captions.missing_metrics_sentence(["z = 5"]).startswith("z = 5 has no metrics.json yet")
    many = captions.missing_metrics_sentence(["z = 2", "z = 5", "z = 10"])
    assert many.startswith("z = 2, z = 5 and z = 10 have") and "`vae-explorer evaluate`" in many
