"""The dashboard's Streamlit-free helpers: tables, selections, images, figures."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from dashboard.shell import captions, images, points, tables
from dashboard.training import seed_report
from vae_core import store


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint_root):
    checkpoints, _ = store.scan(tiny_checkpoint_root)
    return checkpoints


def test_summary_and_metrics_tables_have_one_row_per_model(tiny, tmp_path):
    summary = tables.summary_frame(tiny)
    assert list(summary["latent size"]) == [2, 3]
    assert summary["test loss (nats)"].tolist() == [c.final["test_loss"] for c in tiny]
    table = tables.metrics_table(tiny)
    assert list(table.index) == ["MNIST · z = 2", "MNIST · z = 3"]
    assert table.loc["MNIST · z = 3", "test KL (nats)"] == pytest.approx(tiny[1].final["test_kl"])


def test_metrics_json_adds_the_evaluation_columns(tiny_data, tmp_path):
    from tests.conftest import write_tiny_checkpoint
    from vae_core import evaluate

    checkpoint = write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    assert "NLL (IW)" not in tables.metrics_table([checkpoint]).columns  # not evaluated yet
    store.write_json_artifact(checkpoint, store.METRICS_FILE, {
        "metrics_version": evaluate.METRICS_VERSION, "nll_iw": 180.5, "active_units": 2,
        "elbo": {"loss": 1.0, "recon": 0.5, "kl": 0.5}, "kl_per_dim": [0.1, 3.0]})
    table = tables.metrics_table([checkpoint])
    assert table.loc["MNIST · z = 2", "NLL (IW)"] == 180.5 and table.loc["MNIST · z = 2", "active units"] == 2
    assert "negative ELBO" not in table.columns  # the history columns already hold the ELBO
    order, scores, note = points.latent_order(store.load_model(checkpoint), None, None,
                                             tables.evaluation_metrics(checkpoint))
    assert order == [1, 0] and "metrics.json" in note
    store.write_json_artifact(checkpoint, store.METRICS_FILE, {"metrics_version": -1, "nll_iw": 1.0})
    assert "NLL (IW)" not in tables.metrics_table([checkpoint]).columns  # another version is ignored


def test_seed_comparison_puts_the_report_beside_our_epochs(tiny):
    frame = seed_report.seed_comparison_frame(tiny[0])
    assert len(frame) == 12  # the report has 12 epochs, the tiny model 2
    assert frame.loc[12, "seed report (as printed)"] == pytest.approx(320.234)
    assert frame.loc[1, "ours: test (nats)"] == pytest.approx(tiny[0].history[0]["test_loss"])
    assert np.isnan(frame.loc[3, "ours: test (nats)"])


def test_model_labels_tell_apart_models_of_the_same_size(tiny):
    assert tables.model_label(tiny[0], tiny) == "MNIST · z = 2"
    assert tables.model_label(tiny[0], [tiny[0], tiny[0]]).startswith("MNIST · z = 2 (2 epochs")


def test_clip_to_sliders_snaps_to_the_slider_grid():
    assert points.clip_to_sliders(9.0) == points.SLIDER_RANGE[1]
    assert points.clip_to_sliders(0.123) == pytest.approx(0.1)


def test_missing_test_files_names_the_folder_and_the_variable(tmp_path, fake_mnist_dir):
    reason = captions.missing_test_files("mnist", tmp_path / "empty")
    assert "VAE_DATA_DIR" in reason and str(tmp_path / "empty" / "MNIST" / "raw") in reason
    assert captions.missing_test_files("mnist", fake_mnist_dir) is None


def test_latent_order_uses_the_data_when_it_matches_else_the_cached_means(tiny, tiny_data):
    checkpoint = tiny[1]
    model = store.load_model(checkpoint)
    arrays = store.read_arrays_artifact(checkpoint, store.PROJECTIONS_FILE)
    exact_order, exact, note = points.latent_order(model, arrays, tiny_data[1])
    assert "test set" in note and sorted(exact_order) == [0, 1, 2]
    assert exact[exact_order[0]] >= exact[exact_order[-1]]
    _, proxy, note = points.latent_order(model, arrays, None)
    assert "cached" in note and proxy.shape == (3,)
    assert points.latent_order(model, None, None)[0] == [0, 1, 2]


def test_base_points(tiny):
    model = store.load_model(tiny[0])
    arrays = store.read_arrays_artifact(tiny[0], store.PROJECTIONS_FILE)
    assert torch.equal(points.base_point("Origin", 2, 0, 0, model, None, arrays), torch.zeros(2))
    prior = points.base_point("Random prior draw", 2, 4, 0, model, None, arrays)
    assert torch.equal(prior, points.base_point("Random prior draw", 2, 4, 0, model, None, arrays))
    digit = points.base_point("Test digit", 2, 0, 3, model, None, arrays)
    assert torch.allclose(digit, torch.as_tensor(arrays["mu"][3], dtype=torch.float32))


def png_size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def test_grid_images_stay_under_streamlits_resize_limit(tiny):
    model = store.load_model(tiny[0])
    small = images.generated_grid_png(model, 0, 10, 1.0, 10)
    assert png_size(small) == ((10 * 29 + 1) * 3, (29 + 1) * 3)
    wide = images.generated_grid_png(model, 0, 40, 1.0, 20)
    assert png_size(wide)[0] <= images.MAX_IMAGE_WIDTH  # wider ones would be blurred by bilinear resizing


def test_point_caption_names_the_slider_dimensions():
    assert captions.point_caption(torch.tensor([0.5, -1.0]), [0, 1]) == "Decoded digit at z = (0.50, -1.00)"
    caption = captions.point_caption(torch.zeros(20), [7, 3])
    assert caption.startswith("Decoded digit at z[7] = 0.00, z[3] = 0.00") and "the other 18 dimensions" in caption
    assert captions.point_caption(torch.zeros(10), list(range(9))).endswith("the one other dimension stays at the "
                                                                         "start point")
    every = captions.point_caption(torch.zeros(10), list(range(10)))
    assert every.endswith("every dimension has a slider") and "other" not in every


def test_metrics_display_has_a_row_per_metric_in_its_own_format(tiny_data, tmp_path):
    from tests.conftest import write_tiny_checkpoint
    from vae_core import evaluate

    checkpoint = write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    store.write_json_artifact(checkpoint, store.METRICS_FILE, {
        "metrics_version": evaluate.METRICS_VERSION, "nll_iw": 180.456, "active_units": 1,
        "samples": {"mean_top_probability": 0.8462}, "elbo": {"loss": 1.0, "recon": 0.5, "kl": 0.5}})
    table = tables.metrics_table([checkpoint])
    shown = tables.metrics_display(table, [checkpoint])
    assert list(shown.columns) == ["MNIST · z = 2", "better"] and list(shown.index) == list(table.columns)
    assert shown.loc["NLL (IW)", "MNIST · z = 2"] == "180.46" and shown.loc["NLL (IW)", "better"] == "lower"
    assert shown.loc["classifier confidence", "MNIST · z = 2"] == "84.6%"  # a probability, not "0.85" cut to "0"
    assert shown.loc["active units", "MNIST · z = 2"] == "1 of 2"
    assert shown.loc["probe accuracy", "MNIST · z = 2"] == "–"  # not in this metrics.json
    assert shown.loc["test loss (nats)", "MNIST · z = 2"] == f"{checkpoint.final['test_loss']:.2f}"


def test_seed_drop_compares_fractions_not_numbers(tiny):
    sentence = seed_report.seed_drop_sentence(tiny[0])
    assert "the report's loss fell by 41% (544.5 to 320.2)" in sentence  # (544.472 - 320.234) / 544.472
    ours = [row["test_loss"] for row in tiny[0].history]
    assert seed_report.relative_drop(ours) == pytest.approx((ours[0] - ours[-1]) / ours[0])
    change = seed_report.relative_drop(ours)
    assert f"our test loss {'fell' if change >= 0 else 'rose'} by {abs(change):.0%}" in sentence
