"""Training on your own images end to end: registered RGB sets at 16 and 32 pixels and a grey one at 16.

scikit-learn's ``load_digits`` (1,797 real 8 x 8 scans) tinted into RGB, each digit's ink in its class's colour,
registered with `vae-explorer data add --size 16` and `--size 32`; the conv VAE and the MLP trained on each for two
epochs through the CLI, then `project` and `evaluate` with --checkpoint-dir alone ($VAE_CHECKPOINT_DIR points at an
empty folder elsewhere, so a registered set found there would fail the run). Then every picture that leaves the
package (the replay, the figures, the exports, the neighbours' thumbnails) is read back as an RGB image.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_core import cli, explore, figures, latent, neighbours, store
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import load_split
from vae_core.evaluate import load_metrics
from vae_core.jobs import JobQueue
from vae_core.projections import load_projections
from vae_core.replay import GRID_COUNT, REPLAY_SEED, load_replay, replay_gif
from vae_core.replay_figure import grid_factor
from vae_core.shapes import pictures
from vae_core.train import evaluate_elbo, new_training_state
from vae_core.worker import run_job

# matplotlib's tab10: digit k's ink is drawn in colour k on black
CLASS_COLOURS = np.array([[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
                          [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]], np.float32)
RGB_SETS = {"tint16": 16, "tint32": 32}
GREY = "grey16"
TRAINING = ("--latent-dims", "2", "--epochs", "2", "--batch-size", "64", "--hidden-dim", "64", "--quiet")
TEST_IMAGES = 300  # round(1797 / 6): data add's default test fraction
EVALUATION = ("--iw-samples", "10", "--samples", "200")


def write_folder(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """images uint8 [N, H, W] or [N, H, W, 3] -> FOLDER/<label>/<row>.png (torchvision's ImageFolder layout)."""
    for row, (image, label) in enumerate(zip(images, labels, strict=True)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / str(label) / f"{row:05d}.png")
    return folder


def cli_ok(*argv) -> None:
    """Run `vae-explorer argv` in this process; it must succeed."""
    code = cli.main([str(arg) for arg in argv])
    assert code == 0, f"vae-explorer {' '.join(map(str, argv))} exited with {code}"


def name(dataset: str, arch: str, epochs: int = 2) -> str:
    model = "conv-z2" if arch == "conv" else "z2-h64"
    return f"{dataset}-{model}-e{epochs}-b64-lr0.001-s0"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A checkpoint root with tint16, tint32 (RGB) and grey16 registered, their models trained, projected and
    evaluated, every command given --checkpoint-dir while $VAE_CHECKPOINT_DIR names another, empty, folder."""
    from sklearn.datasets import load_digits

    base = tmp_path_factory.mktemp("own-images")
    loaded = load_digits()
    ink = np.rint(loaded.images * 255 / 16).astype(np.uint8)  # its 17 grey levels spread over 0-255
    tinted = np.rint(ink[..., None] / 255 * CLASS_COLOURS[loaded.target][:, None, None, :]).astype(np.uint8)
    rgb_folder = write_folder(base / "tinted", tinted, loaded.target)
    grey_folder = write_folder(base / "grey", ink, loaded.target)
    root, elsewhere = base / "checkpoints", base / "elsewhere"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAE_CHECKPOINT_DIR", str(elsewhere))
        for dataset, side in RGB_SETS.items():
            cli_ok("data", "add", dataset, rgb_folder, "--size", side, "--checkpoint-dir", root)
            for arch in ("conv", "mlp"):
                cli_ok("train", "--dataset", dataset, "--arch", arch, *TRAINING, "--maps", "later",
                       "--checkpoint-dir", root)
        cli_ok("data", "add", GREY, grey_folder, "--size", "16", "--checkpoint-dir", root)
        cli_ok("train", "--dataset", GREY, "--arch", "mlp", *TRAINING, "--maps", "later", "--checkpoint-dir", root)
        for dataset in (*RGB_SETS, GREY):
            cli_ok("project", "--dataset", dataset, "--checkpoint-dir", root)
            cli_ok("evaluate", "--dataset", dataset, *EVALUATION, "--checkpoint-dir", root)
    assert not elsewhere.exists()
    return root


def checkpoint(root: Path, dataset: str, arch: str) -> store.Checkpoint:
    return store.read_checkpoint(root / name(dataset, arch))


def untrained_loss(model_config: ModelConfig, dataset: str, root: Path) -> float:
    """The test loss of the model these runs start from (the same seed), before any training."""
    train_config = TrainConfig(dataset=dataset, epochs=2, batch_size=64)
    model = new_training_state(model_config, train_config, torch.device("cpu")).model
    return evaluate_elbo(model, load_split(dataset, False, checkpoint_dir=root).images, seed=0)["loss"]


def png(data: bytes | Path) -> Image.Image:
    picture = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    picture.load()
    return picture


def assert_coloured(picture: Image.Image) -> None:
    """An RGB picture of more than one colour, some of its pixels far from grey (the tinted digits' ink)."""
    assert picture.mode == "RGB"
    pixels = np.asarray(picture, dtype=np.int64).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 10
    assert (pixels.max(axis=1) - pixels.min(axis=1)).max() > 60


def assert_shows(picture: Image.Image, images: np.ndarray) -> None:
    """An RGB picture holding every colour of ``images`` (pictures [..., S, S, 3] in [0, 1]), which are not all grey:
    the model's own colours, drawn in colour."""
    assert picture.mode == "RGB"
    drawn = {tuple(c) for c in np.asarray(picture).reshape(-1, 3)}
    wanted = {tuple(c) for c in explore.to_uint8(images).reshape(-1, 3)}
    assert wanted <= drawn and any(len(set(colour)) > 1 for colour in wanted)


# ---------------------------------------------------------------- the models and what train leaves


@pytest.mark.parametrize("arch", ["conv", "mlp"])
@pytest.mark.parametrize("dataset", list(RGB_SETS))
def test_an_rgb_set_trains_a_model_of_its_shape_that_learns(root, capsys, dataset, arch):
    side = RGB_SETS[dataset]
    assert cli.main(["list", "--json", "--checkpoint-dir", str(root)]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["checkpoints"]}
    row = rows[name(dataset, arch)]
    assert (row["dataset"], row["architecture"], row["channels"], row["side"]) == (dataset, arch, 3, side)
    trained = checkpoint(root, dataset, arch)
    config = trained.model_config
    assert (config.channels, config.side, config.input_dim) == (3, side, 3 * side * side)
    loss = trained.final["test_loss"]
    assert math.isfinite(loss) and 0 < loss < untrained_loss(config, dataset, root)
    model = store.load_model(trained)
    assert model.decode_images(torch.zeros(5, 2)).shape == (5, side, side, 3)


@pytest.mark.parametrize("dataset", list(RGB_SETS))
def test_the_replay_records_rgb_grids_of_the_model(root, dataset):
    side = RGB_SETS[dataset]
    trained = checkpoint(root, dataset, "conv")
    replay = load_replay(trained)
    assert replay.grids.shape == (3, GRID_COUNT, side, side, 3) and replay.grids.dtype == np.uint8
    decoded = store.load_model(trained).decode_images(explore.prior_samples(2, GRID_COUNT, REPLAY_SEED))
    np.testing.assert_array_equal(replay.grids[-1], explore.to_uint8(decoded.numpy()))  # the trained model's grid
    gif = Image.open(io.BytesIO(replay_gif(replay, trained.history)))
    assert gif.n_frames == 3
    grid_side = (8 * (side + 1) + 1) * grid_factor(side)
    assert gif.size[0] > 466 + grid_side and gif.size[1] >= grid_side


def test_a_replay_of_another_shape_than_its_model_is_refused(root, tmp_path):
    import shutil

    trained = checkpoint(root, "tint16", "conv")
    copy = tmp_path / trained.name
    shutil.copytree(trained.path, copy)
    for other, message in ((checkpoint(root, "tint32", "conv"), "declares 589,824 values in grids, more than 2 epochs "
                                                               "can hold"),  # 3 x 64 x 32 x 32 x 3
                           (checkpoint(root, GREY, "mlp"), r"holds grids of shape \(3, 64, 16, 16\), expected "
                                                           r"\(3, 64, 16, 16, 3\)")):
        shutil.copy(other.path / "replay.npz", copy / "replay.npz")
        with pytest.raises(store.CheckpointError, match=message):
            load_replay(store.read_checkpoint(copy))
        assert load_replay(copy, latent_dim=2).grids.shape[1:] == load_replay(other).grids.shape[1:]  # a job's file


@pytest.mark.parametrize("dataset", [*RGB_SETS, GREY])
def test_project_maps_the_test_set_without_a_classifier(root, dataset):
    for arch in ("conv", "mlp") if dataset in RGB_SETS else ("mlp",):
        trained = checkpoint(root, dataset, arch)
        arrays = load_projections(trained)
        assert arrays["mu"].shape == (TEST_IMAGES, 2) and arrays["pca"].shape == (TEST_IMAGES, 2)
        assert arrays["tsne"].shape == (TEST_IMAGES, 2) and arrays["umap"].shape == (TEST_IMAGES, 2)
        assert arrays["nelbo"].shape == arrays["kl"].shape == (TEST_IMAGES,) and "confidence" not in arrays
        assert np.isfinite(arrays["nelbo"]).all() and (arrays["nelbo"] > arrays["kl"]).all()
        assert (trained.path / "train-points.npz").is_file()


@pytest.mark.parametrize("dataset", [*RGB_SETS, GREY])
def test_evaluate_computes_the_test_loss_and_says_there_is_no_classifier(root, dataset):
    for arch in ("conv", "mlp") if dataset in RGB_SETS else ("mlp",):
        trained = checkpoint(root, dataset, arch)
        metrics = load_metrics(trained)
        assert metrics["settings"]["classifier"] is None
        assert metrics["without_classifier"].startswith(f"no classifier for {dataset}: ")
        assert "samples" not in metrics and "reconstructions" not in metrics
        assert math.isfinite(metrics["elbo"]["loss"])
        assert metrics["elbo"]["loss"] < untrained_loss(trained.model_config, dataset, root)
        assert metrics["nll_iw"] <= metrics["elbo"]["loss"] + 1.0
        assert len(metrics["kl_per_dim"]) == 2 and 0 <= metrics["linear_probe"]["test_accuracy"] <= 1
        assert metrics["memorisation"]["samples_mean_nn_distance"] > 0


def test_a_grey_set_at_16_trains_the_mlp(root, capsys):
    assert cli.main(["list", "--json", "--checkpoint-dir", str(root)]) == 0
    row = {r["name"]: r for r in json.loads(capsys.readouterr().out)["checkpoints"]}[name(GREY, "mlp")]
    assert (row["channels"], row["side"]) == (1, 16)
    trained = checkpoint(root, GREY, "mlp")
    assert trained.final["test_loss"] < untrained_loss(trained.model_config, GREY, root)
    model = store.load_model(trained)
    decoded = explore.decode(model, torch.zeros(4, 2))
    assert decoded.shape == (4, 16, 16)
    assert explore.tile(decoded, 2).shape == (2 * 17 + 1, 2 * 17 + 1)
    assert load_replay(trained).grids.shape == (3, GRID_COUNT, 16, 16)


# ---------------------------------------------------------------- pictures out of the package


def test_export_writes_rgb_figures_and_the_encoded_test_set(root, tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(tmp_path / "elsewhere"))  # --checkpoint-dir must find the set
    model_name, side = name("tint16", "conv"), 16
    outputs = {what: tmp_path / f"{what}{suffix}" for what, suffix in (
        ("samples", ".png"), ("traversal", ".png"), ("class-means", ".png"), ("interpolation", ".gif"),
        ("csv", ".csv"), ("projector", ""))}
    for what, output in outputs.items():
        cli_ok("export", what, "--model", model_name, "--output", output, "--checkpoint-dir", root)
    trained = checkpoint(root, "tint16", "conv")
    model, arrays = store.load_model(trained), load_projections(trained)
    samples = png(outputs["samples"])  # 100 samples, 10 a row, each side + 1 pixel of border, 3 x larger
    assert samples.size == ((10 * (side + 1) + 1) * 3,) * 2
    decoded = explore.decode(model, explore.prior_samples(2, 100, 0))
    np.testing.assert_array_equal(np.asarray(samples), explore.upscale(explore.tile(decoded, 10), 3))
    assert_coloured(samples)
    mu = np.asarray(arrays["mu"], dtype=np.float32)
    shown = {"traversal": figures.traversal(model, torch.zeros(2), latent.rank_dimensions(mu)).images,
             "class-means": figures.class_mean_images(model, latent.class_means(mu, arrays["labels"]))}
    for what, images in shown.items():
        assert_shows(png(outputs[what]), images)
    class_means = png(outputs["class-means"])
    assert class_means.height > 3 * side and class_means.width > 10 * 3 * side  # one mean per class, 3 x larger
    animation = Image.open(outputs["interpolation"])  # 10 steps there and 8 back, each picture 6 x larger
    assert animation.n_frames == 18 and animation.size == (6 * side, 6 * side)
    with open(outputs["csv"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == TEST_IMAGES and {"mu_0", "logvar_1", "pca_x", "tsne_y", "umap_x"} <= set(rows[0])
    sprite = png(next(outputs["projector"].rglob("sprite.png")))
    assert sprite.size == (18 * side, 18 * side)  # ceil(sqrt(300)) = 18 images a side
    assert_coloured(sprite)


def test_explore_tiles_and_neighbour_thumbnails_are_rgb(root):
    trained, side = checkpoint(root, "tint32", "conv"), 32
    model = store.load_model(trained)
    test = load_split("tint32", False, checkpoint_dir=root)
    tiled = explore.tile(explore.decode(model, torch.zeros(5, 2)), columns=5)
    assert tiled.shape == (side + 2, 5 * (side + 1) + 1, 3) and tiled.dtype == np.uint8
    assert png(explore.png_bytes(tiled, factor=2)).size == (2 * tiled.shape[1], 2 * tiled.shape[0])
    arrays = load_projections(trained)
    rows, distances = neighbours.nearest(arrays["mu"], arrays["mu"][0], 4, leave_out=0)
    originals, are_originals = neighbours.thumbnails(model, test.images, arrays["mu"], rows)
    assert are_originals and originals.shape == (4, side, side, 3)
    np.testing.assert_array_equal(originals, pictures(test.images[rows].numpy(), 3, side))
    decoded, are_originals = neighbours.thumbnails(model, None, arrays["mu"], rows)
    assert not are_originals and decoded.shape == (4, side, side, 3)
    lines = neighbours.tile_lines(rows, distances, arrays["labels"], tuple(str(k) for k in range(10)))
    sheet = png(neighbours.tiles_png(originals, lines, columns=3))
    thumb = side * neighbours.tile_factor(side)
    assert sheet.size == (3 * (thumb + neighbours.CELL_MARGIN),
                          2 * (thumb + 2 * (neighbours.LABEL_SIZE + 4) + 4))
    assert_coloured(sheet)
    assert neighbours.tile_factor(28) == neighbours.TILE_FACTOR  # MNIST's thumbnails keep their size


# ---------------------------------------------------------------- the Train page's worker


def test_a_job_queued_with_a_grey_28_config_trains_the_sets_shape(root):
    queue = JobQueue(root)
    job, note = queue.submit(ModelConfig(latent_dim=3, hidden_dim=32),  # as the Train page's form builds it
                             TrainConfig(dataset="tint16", epochs=1, batch_size=64), "unused-data-dir")
    assert note == "queued" and (job.model_config.channels, job.model_config.side) == (3, 16)
    claimed = queue.claim(slot=0)
    assert run_job(queue, claimed) == "done", queue.job(claimed.id).message
    trained = store.read_checkpoint(root / claimed.name)
    assert (trained.model_config.channels, trained.model_config.side) == (3, 16)
    metrics = load_metrics(trained)  # the worker's metrics go without the classifier too
    assert metrics["settings"]["classifier"] is None and math.isfinite(metrics["elbo"]["loss"])
    assert load_projections(trained)["umap"].shape == (TEST_IMAGES, 2)
