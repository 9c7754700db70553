"""Exports read back (CSV via pandas, the TensorBoard projector's files, PNG, GIF), `vae-explorer export`,
and UMAP as a cached projection (one test pays numba's compile)."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vae_core import exports, store
from vae_core.cli import main
from vae_core.projections import has_umap, load_projections, save_projections


def fake_encoding(count: int = 40, dims: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal((count, dims)).astype(np.float32)
    logvar = rng.standard_normal((count, dims)).astype(np.float32)
    labels = np.arange(count) % 10
    subset = np.arange(0, count, 4)
    projections = {"mu": mu.astype(np.float16), "labels": labels, "pca": rng.standard_normal((count, 2)),
                   "pca_explained": np.array([0.5, 0.2]), "tsne": rng.standard_normal((len(subset), 2)),
                   "tsne_index": subset, "umap": rng.standard_normal((count, 2)).astype(np.float32)}
    return mu, logvar, labels, projections


def test_csv_reads_back_with_pandas_every_value_and_every_cached_map():
    mu, logvar, labels, projections = fake_encoding()
    table = pd.read_csv(io.BytesIO(exports.test_set_csv(mu, logvar, labels, projections)))
    assert list(table.columns) == (["index", "label", "mu_0", "mu_1", "mu_2", "logvar_0", "logvar_1", "logvar_2",
                                    "pca_x", "pca_y", "tsne_x", "tsne_y", "umap_x", "umap_y"])
    assert len(table) == 40 and table["index"].tolist() == list(range(40)) and table["label"].tolist() == list(labels)
    assert np.array_equal(table[["mu_0", "mu_1", "mu_2"]].to_numpy(np.float32), mu)  # every float32 digit kept
    assert np.array_equal(table[["logvar_0", "logvar_1", "logvar_2"]].to_numpy(np.float32), logvar)
    assert np.allclose(table[["umap_x", "umap_y"]], projections["umap"])
    tsne = table[["tsne_x", "tsne_y"]].to_numpy()
    assert np.allclose(tsne[projections["tsne_index"]], projections["tsne"], atol=1e-6)
    assert np.isnan(tsne[1]).all() and np.isnan(tsne).all(axis=1).sum() == 30  # rows t-SNE did not map: empty
    without_umap = {k: v for k, v in projections.items() if k != "umap"}
    columns = pd.read_csv(io.BytesIO(exports.test_set_csv(mu, logvar, labels, without_umap))).columns
    assert "umap_x" not in columns and "pca_x" in columns
    assert "pca_x" not in pd.read_csv(io.BytesIO(exports.test_set_csv(mu, logvar, labels))).columns


def test_projector_log_holds_the_config_the_vectors_the_labels_and_the_sprite(tmp_path):
    mu, _, labels, _ = fake_encoding(count=30)
    images = np.random.default_rng(1).random((30, 784)).astype(np.float32)
    root = exports.write_projector(tmp_path / "log", mu, labels, images, class_names=tuple("abcdefghij"))
    config = (root / "projector_config.pbtxt").read_text()
    paths = {key.strip(): value.strip().strip('"') for key, value in
             (line.split(":", 1) for line in config.splitlines() if line.strip().endswith('"'))}
    vectors = np.loadtxt(root / paths["tensor_path"], delimiter="\t", ndmin=2)
    assert vectors.shape == (30, 3) and np.allclose(vectors, mu, atol=1e-5)
    metadata = pd.read_csv(root / paths["metadata_path"], sep="\t", dtype=str)
    assert list(metadata.columns) == ["label", "class"]
    assert metadata["label"].astype(int).tolist() == list(labels) and metadata["class"][3] == "d"
    sprite = Image.open(root / paths["image_path"])
    assert sprite.size == (6 * 28, 6 * 28)  # ceil(sqrt(30)) = 6 digits a side
    assert "single_image_dim: 28" in config
    with_zip = exports.projector_zip(mu, labels, images)
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(with_zip)).namelist()
    assert "projector/projector_config.pbtxt" in names and any(n.endswith("/sprite.png") for n in names)


def test_png_and_gif_figures_have_the_frames_and_sizes_asked_for():
    images = np.random.default_rng(0).random((2, 5, 28, 28)).astype(np.float32)
    png = Image.open(io.BytesIO(exports.rows_png(images, ["z[0]", "z[1]"], list("abcde"), marked={1}, factor=2)))
    assert png.format == "PNG" and png.size[0] > 5 * 56 and png.size[1] > 2 * 56
    strip = Image.open(io.BytesIO(exports.strip_png(images[0], list("abcde"), factor=3)))
    assert strip.size[0] == 5 * (84 + 2) + 2
    gif = Image.open(io.BytesIO(exports.strip_gif(images[0], factor=2)))
    assert gif.format == "GIF" and gif.n_frames == 8 and gif.size == (56, 56)  # 5 forward, 3 back
    traversal = Image.open(io.BytesIO(exports.rows_gif(images, factor=1)))
    assert traversal.n_frames == 8 and traversal.size == (2 * 29 + 1, 29 + 1)  # both rows move together
    with pytest.raises(exports.ExportError):
        exports.gif_bytes(images[0, :1])


@pytest.fixture
def export_root(tmp_path, tiny_checkpoint_root):
    shutil.copytree(tiny_checkpoint_root, tmp_path / "ck")
    return tmp_path / "ck"


def test_cli_export_writes_each_kind_and_bad_input_is_one_line_exit_2(export_root, fake_mnist_dir, tmp_path,
                                                                      capsys):
    name = next(c.name for c in store.scan(export_root)[0] if c.model_config.latent_dim == 3)
    flags = ["--model", name, "--checkpoint-dir", str(export_root), "--data-dir", str(fake_mnist_dir)]
    out = tmp_path / "out"
    out.mkdir()
    for what, file in (("csv", "set.csv"), ("projector", "log"), ("samples", "s.png"), ("traversal", "t.png"),
                       ("traversal", "t.gif"), ("class-means", "c.png"), ("morph", "m.gif"),
                       ("add-direction", "a.png"), ("interpolation", "i.gif")):
        assert main(["export", what, *flags, "--output", str(out / file)]) == 0, capsys.readouterr().err
        assert f"{name}: {what} written to {out / file}" in capsys.readouterr().err
    table = pd.read_csv(out / "set.csv")
    assert len(table) == 200 and "logvar_2" in table.columns and "tsne_x" in table.columns
    assert (out / "log" / "projector_config.pbtxt").is_file()
    assert Image.open(out / "t.gif").n_frames > 1 and Image.open(out / "c.png").format == "PNG"

    for argv, message in ((["--model", "nope"], "no checkpoint 'nope'"),
                          (["--model", "../x"], "not a checkpoint name"),
                          ([*flags, "--output", str(out / "x.jpg")], "writes .png or .gif files"),
                          ([*flags, "--start-index", "5000"], "--start-index 5000 is not a test digit"),
                          ([*flags, "--columns", "1"], "--columns must be at least 2")):
        code = main(["export", "traversal", *argv, "--checkpoint-dir", str(export_root)])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert main(["export", "morph", *flags, "--to-class", "12"]) == 2
    assert "class 12 has no test digits" in capsys.readouterr().err
    assert main(["export", "interpolation", *flags, "--to-index", "-1"]) == 2
    assert "--to-index -1 is not a test digit: pick one from 0 to 199" in capsys.readouterr().err


def test_cli_export_csv_without_the_test_images_names_the_fix(export_root, empty_data, capsys):
    name = store.scan(export_root)[0][0].name
    code = main(["export", "csv", "--model", name, "--checkpoint-dir", str(export_root),
                 "--data-dir", str(empty_data), "--output", str(export_root / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "VAE_DATA_DIR" in err
    assert "downloads are off" in err  # empty_data sets VAE_OFFLINE: no download was tried


@pytest.mark.slow
def test_project_adds_only_umap_to_a_file_written_before_umap(export_root, fake_mnist_dir, capsys, monkeypatch):
    """UMAP maps the cached means; t-SNE and the model are not touched again. Pays numba's compile once."""
    from vae_core import projections

    checkpoint = next(c for c in store.scan(export_root)[0] if c.model_config.latent_dim == 3)
    before = load_projections(checkpoint)
    assert not has_umap(before)  # the tiny checkpoints are written without UMAP, as older files were

    def must_not_run(*args, **kwargs):
        raise AssertionError("t-SNE was computed again")

    monkeypatch.setattr(projections, "tsne_2d", must_not_run)
    flags = ["--checkpoint-dir", str(export_root), "--data-dir", str(fake_mnist_dir)]
    assert main(["project", *flags]) == 0
    err = capsys.readouterr().err
    assert f"{checkpoint.name}: UMAP of 200 test means:" in err
    after = load_projections(checkpoint)
    assert after["umap"].shape == (200, 2) and np.isfinite(after["umap"]).all()
    assert np.array_equal(after["tsne"], before["tsne"]) and np.array_equal(after["mu"], before["mu"])
    assert main(["project", *flags]) == 0 and capsys.readouterr().err == ""  # all cached now

    save_projections(checkpoint, {**after, "umap": after["umap"][:5]})  # a map of other means: not used
    assert not has_umap(load_projections(checkpoint))
