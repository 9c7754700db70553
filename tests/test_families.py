"""Model families: the conv VAE, the KL weight beta, run names, format version 2 and its migration."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from tests.conftest import write_tiny_checkpoint
from vae_core import store
from vae_core.cli import main
from vae_core.config import ConfigError, ModelConfig, TrainConfig
from vae_core.migrations import FORMAT_VERSION
from vae_core.models import VAE, ConvVAE, build_model
from vae_core.train import evaluate_elbo


def test_the_registry_builds_each_architecture_with_the_same_interface():
    for architecture, cls in (("mlp", VAE), ("conv", ConvVAE)):
        model = build_model(ModelConfig(latent_dim=3, architecture=architecture))
        assert type(model) is cls
        out = model(torch.rand(5, 784))
        assert out.logits.shape == (5, 784) and out.mu.shape == out.logvar.shape == out.z.shape == (5, 3)
        assert model.decode_images(torch.zeros(2, 3)).shape == (2, 28, 28)


def test_the_conv_vae_is_two_stride_2_convolutions_each_way():
    model = ConvVAE(ModelConfig(latent_dim=4, architecture="conv"))
    assert [m.out_channels for m in (model.encoder_conv1, model.encoder_conv2)] == [32, 64]
    assert all(m.stride == (2, 2) for m in (model.encoder_conv1, model.encoder_conv2, model.decoder_deconv1,
                                               model.decoder_deconv2))
    assert model.encoder_mu.in_features == 64 * 7 * 7 and model.decoder_deconv2.out_channels == 1


@pytest.mark.parametrize(("model", "train", "name"), [
    (ModelConfig(20), TrainConfig(), "mnist-z20-h400-e12-b128-lr0.001-s0"),  # format 1's names stay valid
    (ModelConfig(20, architecture="conv"), TrainConfig(), "mnist-conv-z20-e12-b128-lr0.001-s0"),
    (ModelConfig(10), TrainConfig(beta=4), "mnist-z10-h400-e12-b128-lr0.001-s0-beta4"),
    (ModelConfig(2), TrainConfig(dataset="fashion-mnist", beta=0.5),
     "fashion-mnist-z2-h400-e12-b128-lr0.001-s0-beta0.5"),
])
def test_run_names_carry_the_architecture_and_beta(model, train, name):
    assert store.run_name(model, train) == name


@pytest.mark.parametrize(("build", "message"), [
    (lambda: TrainConfig(beta=-1), "KL weight beta must be a positive number, got -1: try --beta 1"),
    (lambda: TrainConfig(beta=float("inf")), "KL weight beta must be a positive number"),
    (lambda: ModelConfig(2, architecture="transformer"),
     "unknown architecture 'transformer': choose --arch mlp or conv"),
])
def test_bad_family_settings_name_the_fix(build, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


@pytest.mark.parametrize("flags", [["--beta", "-1"], ["--arch", "transformer"]])
def test_bad_family_flags_are_one_line_and_exit_2(flags, tmp_path, capsys):
    assert main(["train", "--latent-dims", "2", "--checkpoint-dir", str(tmp_path), *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vae-explorer train: error:") and ("--beta" in err[0]
                                                                                  or "--arch" in err[0])
    assert list(tmp_path.iterdir()) == []


def test_a_conv_model_trains_saves_and_loads(tmp_path, tiny_data):
    checkpoint = write_tiny_checkpoint(tmp_path, *tiny_data, latent_dim=2, architecture="conv",
                                       with_projections=False)
    assert checkpoint.name == "mnist-conv-z2-e2-b32-lr0.001-s0"
    config = json.loads((checkpoint.path / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION == 4 and config["model"]["architecture"] == "conv"
    assert (config["model"]["channels"], config["model"]["side"]) == (1, 28)
    model = store.load_model(store.read_checkpoint(checkpoint.path))
    assert type(model) is ConvVAE
    stored = checkpoint.final["test_loss"]
    assert evaluate_elbo(model, tiny_data[1].images, seed=0)["loss"] == pytest.approx(stored)
    assert checkpoint.history[-1]["train_loss"] < checkpoint.history[0]["train_loss"]  # it learns


def test_beta_weighs_training_but_reported_losses_stay_the_elbo(tmp_path, tiny_data):
    one = write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    four = write_tiny_checkpoint(tmp_path, *tiny_data, beta=4.0, with_projections=False)
    assert four.train_config.beta == 4.0 and four.name.endswith("-beta4")
    model = store.load_model(four)
    elbo = evaluate_elbo(model, tiny_data[1].images, seed=0)
    assert four.final["test_loss"] == pytest.approx(elbo["loss"])  # recon + KL, not recon + 4 KL
    assert four.final["test_loss"] == pytest.approx(four.final["test_recon"] + four.final["test_kl"])
    assert four.final["test_kl"] < one.final["test_kl"]  # a heavier KL weight buys a smaller KL


def version_1(checkpoint_dir) -> None:
    """Rewrite a checkpoint's config.json the way format version 1 wrote it."""
    path = checkpoint_dir / "config.json"
    data = json.loads(path.read_text())
    del data["model"]["architecture"], data["train"]["beta"]
    data["format_version"] = 1
    path.write_text(json.dumps(data))


def test_a_version_1_checkpoint_loads_through_the_migration(tmp_path, tiny_data):
    checkpoint = write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    before = store.load_model(checkpoint).decode(torch.ones(1, 2))
    version_1(checkpoint.path)
    migrated = store.read_checkpoint(checkpoint.path)
    assert migrated.model_config.architecture == "mlp" and migrated.train_config.beta == 1.0
    assert migrated.name == store.run_name(migrated.model_config, migrated.train_config)  # still a cache hit
    assert torch.equal(store.load_model(migrated).decode(torch.ones(1, 2)), before)


def test_a_version_2_checkpoint_loads_as_one_trained_here(tmp_path, tiny_data):
    checkpoint = write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    path = checkpoint.path / "config.json"
    data = json.loads(path.read_text())
    del data["source"]
    path.write_text(json.dumps({**data, "format_version": 2}))
    migrated = store.read_checkpoint(checkpoint.path)
    assert migrated.source is None and not migrated.imported and migrated.history == checkpoint.history


def test_the_shipped_checkpoints_load_whatever_their_version(shipped_root):
    checkpoints, problems = store.scan(shipped_root)
    assert checkpoints and problems == []
    versions = {json.loads((c.path / "config.json").read_text())["format_version"] for c in checkpoints}
    assert versions <= {1, 2}


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 0, "2", None])
def test_unknown_or_newer_versions_are_refused_with_the_fix(tmp_path, tiny_data, version):
    checkpoint = write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    path = checkpoint.path / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": version}))
    with pytest.raises(store.CheckpointError, match="upgrade vae-latent-explorer or retrain it"):
        store.read_checkpoint(checkpoint.path)


def test_conv_weights_under_an_mlp_config_are_refused(tmp_path, tiny_data):
    conv = write_tiny_checkpoint(tmp_path, *tiny_data, architecture="conv", with_projections=False)
    path = conv.path / "config.json"
    data = json.loads(path.read_text())
    data["model"]["architecture"] = "mlp"
    path.write_text(json.dumps(data))
    with pytest.raises(store.CheckpointError, match="config and weights come from different models, retrain"):
        store.read_checkpoint(conv.path)
    assert store.scan(tmp_path)[0] == [] and len(store.scan(tmp_path)[1]) == 1
    shutil.rmtree(conv.path)


def test_evaluate_and_project_work_for_the_conv_vae(tmp_path, tiny_data):
    from vae_core.classifier import classifier_name, train_classifier
    from vae_core.evaluate import Settings, build_reference, evaluate_checkpoint
    from vae_core.projections import compute_projections

    conv = write_tiny_checkpoint(tmp_path, *tiny_data, architecture="conv", with_projections=False)
    model = store.load_model(conv)
    arrays = compute_projections(model, tiny_data[1], tsne_points=60, umap=False)
    assert arrays["mu"].shape == (200, 2) and arrays["tsne"].shape == (60, 2)
    classifier, _ = train_classifier(*tiny_data, TrainConfig(epochs=1, batch_size=32, seed=0))
    reference = build_reference(*tiny_data, classifier, classifier_name("mnist"))
    metrics = evaluate_checkpoint(conv, reference, Settings(iw_samples=4, samples=100))
    assert metrics["nll_iw"] <= metrics["elbo"]["loss"]
    assert metrics["elbo"]["loss"] == pytest.approx(conv.final["test_loss"], abs=5.0)


@pytest.mark.parametrize("config", [ModelConfig(2), ModelConfig(7, hidden_dim=16), ModelConfig(3, architecture="conv"),
                                    ModelConfig(20, architecture="conv")])
def test_the_torch_free_shapes_are_the_models_own(config):
    from vae_core.shapes import parameter_shapes

    state = build_model(config).state_dict()
    assert parameter_shapes(config) == {name: tuple(tensor.shape) for name, tensor in state.items()}
