"""Tests on real MNIST ($VAE_DATA_DIR): learning happens and the shipped models are honest."""

import pytest
import torch

from vae_core import store
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import load_split
from vae_core.train import evaluate_elbo, train_vae

SHIPPED_LATENT_DIMS = [2, 5, 10, 20, 50]


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_split("mnist", True, mnist_dir), load_split("mnist", False, mnist_dir)


def test_splits_are_the_real_mnist(mnist):
    train, test = mnist
    assert train.images.shape == (60_000, 784) and test.images.shape == (10_000, 784)
    assert train.images.dtype == torch.float32
    assert train.images.min() == 0.0 and train.images.max() == 1.0
    assert torch.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]


def test_fashion_mnist_loads_too(mnist_dir):
    test = load_split("fashion-mnist", False, mnist_dir)
    assert test.images.shape == (10_000, 784) and torch.bincount(test.labels).tolist() == [1000] * 10


def test_one_epoch_of_z2_on_full_mnist_learns(mnist):
    state = train_vae(ModelConfig(latent_dim=2), TrainConfig(epochs=1), *mnist, device=torch.device("cpu"))
    assert state.history[0].test_loss < 175.0


@pytest.fixture(scope="module")
def shipped(shipped_root):
    """The default sweep: the shipped MNIST MLPs trained with beta 1, by latent size."""
    checkpoints, problems = store.scan(shipped_root)
    assert problems == []
    return {c.model_config.latent_dim: c for c in checkpoints if c.train_config.dataset == "mnist"
            and c.model_config.architecture == "mlp" and c.train_config.beta == 1}


def test_the_default_sweep_is_shipped(shipped):
    assert sorted(shipped) == SHIPPED_LATENT_DIMS
    for checkpoint in shipped.values():
        assert checkpoint.train_config == TrainConfig()
        assert checkpoint.model_config == ModelConfig(latent_dim=checkpoint.model_config.latent_dim)
        assert len(checkpoint.history) == 12


@pytest.mark.parametrize("latent_dim", SHIPPED_LATENT_DIMS)
def test_shipped_final_test_loss_matches_a_fresh_evaluation(shipped, mnist, latent_dim):
    checkpoint = shipped[latent_dim]
    fresh = evaluate_elbo(store.load_model(checkpoint), mnist[1].images, seed=12345)
    assert fresh["loss"] == pytest.approx(checkpoint.final["test_loss"], abs=0.5)
    assert fresh["kl"] == pytest.approx(checkpoint.final["test_kl"], abs=0.5)


def test_shipped_test_loss_falls_with_latent_size_up_to_10(shipped):
    losses = [shipped[z].final["test_loss"] for z in (2, 5, 10)]
    assert losses == sorted(losses, reverse=True)


def test_every_shipped_model_reproduces_its_test_loss_on_its_own_data(shipped_root, mnist, mnist_dir):
    """The other families too: the beta and conv MNIST models and the Fashion-MNIST ones."""
    tests = {"mnist": mnist[1], "fashion-mnist": load_split("fashion-mnist", False, mnist_dir)}
    checkpoints, _ = store.scan(shipped_root)
    others = [c for c in checkpoints if c.train_config.dataset != "mnist" or c.model_config.architecture != "mlp"
              or c.train_config.beta != 1]
    assert len(others) == 7
    for checkpoint in others:
        fresh = evaluate_elbo(store.load_model(checkpoint), tests[checkpoint.train_config.dataset].images, seed=12345)
        assert fresh["loss"] == pytest.approx(checkpoint.final["test_loss"], abs=0.5), checkpoint.name
