import json
import math
import shutil

import numpy as np
import pytest
import torch

from tests.conftest import TINY_TRAIN
from vae_core import evaluate, store
from vae_core.classifier import classifier_name, save_classifier, train_classifier
from vae_core.cli import evaluate as evaluate_command
from vae_core.cli import main
from vae_core.config import ModelConfig, TrainConfig
from vae_core.evaluate import (
    Settings,
    active_units,
    build_reference,
    class_histogram,
    evaluate_checkpoint,
    frechet_distance,
    importance_weighted,
    linear_probe,
    load_metrics,
    nearest_neighbours,
    nearest_training_image,
)
from vae_core.models import VAE
from vae_core.projections import encode_means, load_projections
from vae_core.train import evaluate_elbo, train_vae

TINY_SETTINGS = Settings(iw_samples=8, samples=300)
CLASSIFIER_TRAIN = TrainConfig(epochs=2, batch_size=32, lr=3e-3, seed=0)


@pytest.fixture(scope="module")
def tiny_model(tiny_data) -> VAE:
    return train_vae(ModelConfig(latent_dim=3, hidden_dim=16), TINY_TRAIN, *tiny_data).model


@pytest.fixture(scope="module")
def tiny_classifier(tiny_data):
    return train_classifier(*tiny_data, CLASSIFIER_TRAIN)


@pytest.fixture
def evaluated_root(tmp_path, tiny_checkpoint_root, tiny_classifier):
    """A writable copy of the tiny checkpoints, with a tiny classifier beside them."""
    root = tmp_path / "checkpoints"
    shutil.copytree(tiny_checkpoint_root, root)
    save_classifier(root, tiny_classifier[0], CLASSIFIER_TRAIN, tiny_classifier[1])
    return root


def test_importance_weighted_nll_never_above_the_elbo(tiny_model, tiny_data):
    images = tiny_data[1].images
    estimate = importance_weighted(tiny_model, images, k=20, seed=0)
    # Jensen, image by image, on the same samples: log-mean-exp >= mean of log w
    assert (estimate.nll <= estimate.elbo_mc + 1e-9).all()
    assert estimate.nll.mean() < evaluate_elbo(tiny_model, images, seed=3)["loss"]
    assert estimate.nll.dtype == torch.float64 and estimate.nll.shape == (len(images),)


def test_more_importance_samples_tighten_the_bound(tiny_model, tiny_data):
    images = tiny_data[1].images
    nll = [importance_weighted(tiny_model, images, k=k, seed=0).nll.mean().item() for k in (1, 5, 50)]
    assert nll[0] > nll[1] > nll[2]


def test_one_importance_sample_is_the_elbo(tiny_model, tiny_data):
    images = tiny_data[1].images
    estimate = importance_weighted(tiny_model, images, k=1, seed=0)
    torch.testing.assert_close(estimate.nll, estimate.elbo_mc)
    elbo = evaluate_elbo(tiny_model, images, seed=7)  # independent noise
    standard_error = estimate.elbo_mc.std().item() / math.sqrt(len(images))
    assert abs(estimate.nll.mean().item() - elbo["loss"]) < 5 * math.sqrt(2) * standard_error
    assert estimate.kl.mean().item() == pytest.approx(elbo["kl"], rel=1e-5)  # both analytic


def test_importance_weighted_is_repeatable_and_batch_independent(tiny_model, tiny_data, monkeypatch):
    images = tiny_data[1].images  # all 200
    first = importance_weighted(tiny_model, images, k=8, seed=1)
    torch.testing.assert_close(importance_weighted(tiny_model, images, k=8, seed=1).nll, first.nll)  # repeatable

    monkeypatch.setattr(evaluate, "IW_ROWS", 7)  # chunks of 1 image, not all 200 in one: other draws, same law
    chunked = importance_weighted(tiny_model, images, k=8, seed=1)
    # What involves no draw is the same image by image (the encoder's rounding may differ with the batch)...
    torch.testing.assert_close(chunked.kl, first.kl, rtol=1e-5, atol=0)
    # ...and the Monte Carlo NLL agrees in the mean: within 5 standard errors of the paired difference
    # (about 0.6 nats on a mean NLL of about 535 here; from one seed to another the gap is |z| < 2).
    difference = chunked.nll - first.nll
    standard_error = difference.std().item() / math.sqrt(len(images))
    assert abs(difference.mean().item()) < 5 * standard_error, (difference.mean().item(), standard_error)
    assert difference.abs().max() > 0  # the draws did differ: the agreement is not by construction


def test_active_units_counts_variances_above_threshold():
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(5000, 4, generator=generator)
    noise = (noise - noise.mean(0)) / noise.std(0, unbiased=False)  # exactly unit variance per column
    mu = noise * torch.tensor([1.0, 0.0, 0.05, 0.5])  # variances 1, 0, 0.0025, 0.25
    count, variance = active_units(mu)
    assert count == 2
    torch.testing.assert_close(variance, torch.tensor([1.0, 0.0, 0.0025, 0.25], dtype=torch.float64))


def test_collapsed_encoder_dimensions_are_inactive(tiny_data):
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=5, hidden_dim=16))
    with torch.no_grad():
        model.encoder_mu.weight.mul_(20.0)
        model.encoder_mu.weight[[1, 3]] = 0.0  # these means ignore the input: constant = bias
    count, variance = active_units(encode_means(model, tiny_data[1].images))
    assert count == 3
    assert variance[[1, 3]].max() < 1e-12


def test_frechet_distance_is_zero_for_identical_sets_and_positive_otherwise():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(2000, 16, generator=generator) @ torch.randn(16, 16, generator=generator)
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    shift = torch.zeros(16)
    shift[:4] = 1.5
    # same covariance, means 1.5 apart in 4 coordinates: the distance is exactly 4 * 1.5^2
    assert frechet_distance(features, features + shift) == pytest.approx(9.0, rel=1e-6)
    assert frechet_distance(features, features * 1.3) > 0.1


def test_nearest_neighbour_finds_the_exact_training_image(tiny_data):
    train = tiny_data[0].images
    picked = torch.tensor([3, 17, 200, 255])
    index, distance = nearest_neighbours(train[picked], train)
    assert index.tolist() == picked.tolist()
    assert distance.tolist() == [0.0] * 4
    images, distance = nearest_training_image(train[picked].reshape(-1, 28, 28) + 0.001, train)
    torch.testing.assert_close(images, train[picked].reshape(-1, 28, 28))
    torch.testing.assert_close(distance, torch.full((4,), 0.001 * 28))


def test_nearest_neighbour_agrees_with_brute_force(tiny_data, monkeypatch):
    monkeypatch.setattr(evaluate, "NN_BATCH", 16)  # several blocks
    queries = torch.rand(40, 784, generator=torch.Generator().manual_seed(1))
    index, distance = nearest_neighbours(queries, tiny_data[0].images)
    full = torch.cdist(queries.double(), tiny_data[0].images.double())
    assert index.tolist() == full.argmin(1).tolist()
    torch.testing.assert_close(distance.double(), full.min(1).values, rtol=1e-5, atol=1e-5)


def test_class_histogram_entropy_spans_zero_to_log_ten():
    every_digit = torch.eye(10).repeat(30, 1)
    counts, entropy = class_histogram(every_digit)
    assert counts == [30] * 10 and entropy == pytest.approx(math.log(10))
    counts, entropy = class_histogram(torch.eye(10)[[7] * 50])
    assert counts[7] == 50 and entropy == 0.0


def test_linear_probe_reads_separable_codes():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(600) % 10
    centres = torch.randn(10, 4, generator=generator) * 10
    codes = centres[labels] + torch.randn(600, 4, generator=generator) * 0.1
    result = linear_probe(codes[:400], labels[:400], codes[400:], labels[400:])
    assert result == {"train_accuracy": 1.0, "test_accuracy": 1.0}
    noise = torch.randn(600, 4, generator=generator)
    assert linear_probe(noise[:400], labels[:400], noise[400:], labels[400:])["test_accuracy"] < 0.3


def test_evaluate_checkpoint_writes_consistent_metrics(evaluated_root, tiny_data, tiny_classifier):
    checkpoint = store.scan(evaluated_root)[0][1]  # z = 3
    reference = build_reference(*tiny_data, tiny_classifier[0], classifier_name("mnist"))
    metrics = evaluate_checkpoint(checkpoint, reference, TINY_SETTINGS)
    assert load_metrics(checkpoint, TINY_SETTINGS) == json.loads(json.dumps(metrics))
    assert load_metrics(checkpoint, Settings(iw_samples=9, samples=300)) is None
    assert metrics["latent_dim"] == 3 and len(metrics["kl_per_dim"]) == 3
    assert sum(metrics["kl_per_dim"]) == pytest.approx(metrics["elbo"]["kl"], rel=1e-5)
    assert metrics["nll_iw"] <= metrics["elbo"]["loss"]
    assert metrics["elbo"]["loss"] == pytest.approx(metrics["elbo"]["recon"] + metrics["elbo"]["kl"])
    assert 0 <= metrics["active_units"] <= 3
    assert sum(metrics["samples"]["class_counts"]) == TINY_SETTINGS.samples
    assert 0 <= metrics["samples"]["class_entropy"] <= math.log(10) + 1e-9
    assert 0.1 <= metrics["samples"]["mean_top_probability"] <= 1.0
    assert metrics["samples"]["frechet_distance"] > 0
    memorisation = metrics["memorisation"]
    assert memorisation["queries"] == TINY_SETTINGS.samples
    assert len(memorisation["nearest_train_index"]) == evaluate.NN_EXAMPLES
    assert memorisation["ratio_to_test"] == pytest.approx(
        memorisation["samples_mean_nn_distance"] / memorisation["test_mean_nn_distance"])
    assert 0 <= metrics["linear_probe"]["test_accuracy"] <= 1


def test_nearest_train_index_matches_regenerated_samples(evaluated_root, tiny_data, tiny_classifier):
    checkpoint = store.scan(evaluated_root)[0][0]
    reference = build_reference(*tiny_data, tiny_classifier[0], classifier_name("mnist"))
    metrics = evaluate_checkpoint(checkpoint, reference, TINY_SETTINGS)
    samples = evaluate.prior_samples(store.load_model(checkpoint), 10, TINY_SETTINGS.seed)
    index, _ = nearest_neighbours(samples, tiny_data[0].images)
    assert index.tolist() == metrics["memorisation"]["nearest_train_index"][:10]


def test_load_metrics_ignores_missing_and_foreign_files(tiny_checkpoint_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(tiny_checkpoint_root, root)
    checkpoint = store.scan(root)[0][0]
    assert load_metrics(checkpoint) is None
    (checkpoint.path / store.METRICS_FILE).write_text("{truncated")
    assert load_metrics(checkpoint) is None
    (checkpoint.path / store.METRICS_FILE).write_text(json.dumps({"metrics_version": 999}))
    assert load_metrics(checkpoint) is None


def _evaluate_cli(root, data_dir, *extra):
    return main(["evaluate", "--checkpoint-dir", str(root), "--data-dir", str(data_dir), "--iw-samples", "4",
                 "--samples", "200", *extra])


def test_cli_evaluates_once_then_reuses_the_cache(evaluated_root, fake_mnist_dir, capsys, monkeypatch):
    assert _evaluate_cli(evaluated_root, fake_mnist_dir, "--json") == 0
    output = json.loads(capsys.readouterr().out)
    assert [m["latent_dim"] for m in output["checkpoints"]] == [2, 3]
    assert all((evaluated_root / m["checkpoint"] / store.METRICS_FILE).is_file() for m in output["checkpoints"])

    def must_not_run(*args, **kwargs):
        raise AssertionError("cached metrics were recomputed")

    monkeypatch.setattr(evaluate_command, "evaluate_checkpoint", must_not_run)
    assert _evaluate_cli(evaluated_root, fake_mnist_dir, "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["checkpoints"] == output["checkpoints"]
    assert captured.err.count("metrics cached") == 2
    monkeypatch.undo()
    assert _evaluate_cli(evaluated_root, fake_mnist_dir, "--force") == 0
    table = capsys.readouterr().out
    assert "NLL (IW)" in table and "active units" in table


def test_cli_without_classifier_says_how_to_train_it(tiny_checkpoint_root, tmp_path, fake_mnist_dir, capsys):
    root = tmp_path / "checkpoints"
    shutil.copytree(tiny_checkpoint_root, root)
    assert _evaluate_cli(root, fake_mnist_dir) == 2
    assert "vae-explorer train-classifier" in capsys.readouterr().err


def test_cli_refuses_bad_settings(tiny_checkpoint_root, capsys):
    assert main(["evaluate", "--checkpoint-dir", str(tiny_checkpoint_root), "--iw-samples", "0"]) == 2
    assert "--iw-samples" in capsys.readouterr().err


SHIPPED = {  # (data set, architecture, latent size, beta) of every shipped checkpoint
    *(("mnist", "mlp", z, 1.0) for z in (2, 5, 10, 20, 50)),
    ("mnist", "mlp", 10, 0.5), ("mnist", "mlp", 10, 4.0),
    ("mnist", "conv", 2, 1.0), ("mnist", "conv", 20, 1.0),
    *(("fashion-mnist", "mlp", z, 1.0) for z in (2, 10, 20)),
}


def family(checkpoint) -> tuple:
    model, train = checkpoint.model_config, checkpoint.train_config
    return train.dataset, model.architecture, model.latent_dim, train.beta


def test_shipped_checkpoints_ship_consistent_metrics(shipped_root):
    checkpoints, problems = store.scan(shipped_root)
    assert {family(c) for c in checkpoints} == SHIPPED and problems == []
    for checkpoint in checkpoints:
        metrics = load_metrics(checkpoint, Settings())
        assert metrics is not None, f"{checkpoint.name}: run `vae-explorer evaluate` and commit metrics.json"
        assert load_projections(checkpoint) is not None, f"{checkpoint.name}: run `vae-explorer project`"
        assert metrics["nll_iw"] <= metrics["elbo"]["loss"]
        assert metrics["elbo"]["loss"] == pytest.approx(checkpoint.final["test_loss"], abs=1.0)
        assert len(metrics["kl_per_dim"]) == metrics["latent_dim"] == checkpoint.model_config.latent_dim
        assert metrics["active_units"] == int(np.sum(np.array(metrics["posterior_mean_variance"]) > 0.01))


@pytest.mark.parametrize("latent_dim", [2, 20])
def test_the_shipped_conv_vae_beats_the_mlp_at_the_same_latent_size(shipped_root, latent_dim):
    by_family = {family(c): load_metrics(c, Settings()) for c in store.scan(shipped_root)[0]}
    conv, mlp = by_family[("mnist", "conv", latent_dim, 1.0)], by_family[("mnist", "mlp", latent_dim, 1.0)]
    assert conv["nll_iw"] < mlp["nll_iw"] and conv["elbo"]["loss"] < mlp["elbo"]["loss"]


def test_the_shipped_total_stays_under_72_mb(shipped_root):
    # 37 MB for the models, their test-set maps and replays; the training digits' means and places on those maps
    # (train-points.npz: 60,000 float16 means, 1.4 MB a model at z = 2, 6.9 MB at z = 50) add 30 MB.
    total = sum(f.stat().st_size for f in shipped_root.rglob("*") if f.is_file())
    assert total < 72 * 2**20, f"checkpoints/ holds {total / 2**20:.1f} MB"
    train = sum(f.stat().st_size for f in shipped_root.rglob("train-points.npz"))
    assert train < 32 * 2**20, f"the training digits take {train / 2**20:.1f} MB"
