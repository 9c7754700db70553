"""The two backward passes (the MLP's hand-written one and autograd) against each other and against
torch's own autograd of recon + beta * KL, for every architecture; the fast Bernoulli NLL against torch's."""

import pytest
import torch
from torch.nn import functional as F

from vae_core.config import ModelConfig
from vae_core.losses import bernoulli_nll, negative_elbo
from vae_core.mlp_backward import forward_with_activations, negative_elbo_backward
from vae_core.models import VAE, build_model
from vae_core.train import autograd_backward, compute_gradients, uses_manual_backward


def autograd_gradients(model, x: torch.Tensor, seed: int, beta: float = 1.0) -> tuple[dict[str, torch.Tensor], float]:
    """Gradients of the batch mean of recon + beta * KL through torch's autograd, with the noise of ``seed``."""
    model.zero_grad(set_to_none=True)
    out = model(x, torch.Generator().manual_seed(seed))
    terms = negative_elbo(out.logits, x, out.mu, out.logvar)
    loss = terms.recon.mean() + beta * terms.kl.mean()
    loss.backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}, loss.item()


def assert_same_gradients(model, expected: dict[str, torch.Tensor]) -> None:
    for name, p in model.named_parameters():
        scale = expected[name].abs().max().item()
        assert (p.grad - expected[name]).abs().max().item() <= 1e-4 * scale + 1e-7, name


@pytest.mark.parametrize(("latent_dim", "hidden_dim", "batch"), [(2, 16, 1), (3, 7, 5), (20, 400, 128)])
def test_hand_written_gradients_equal_autograd(latent_dim, hidden_dim, batch):
    torch.manual_seed(latent_dim)
    model = VAE(ModelConfig(latent_dim=latent_dim, hidden_dim=hidden_dim))
    x = torch.rand(batch, 784) * (torch.rand(batch, 784) > 0.6)  # MNIST-like: mostly zeros
    expected, expected_loss = autograd_gradients(model, x, seed=5)

    model.zero_grad(set_to_none=True)
    loss = negative_elbo_backward(model, x, torch.Generator().manual_seed(5))

    assert (loss.recon + loss.kl).item() / batch == pytest.approx(expected_loss, rel=1e-5)
    assert_same_gradients(model, expected)


@pytest.mark.parametrize("beta", [0.5, 4.0])
def test_beta_weighs_the_kl_in_both_backward_passes(beta):
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=5, hidden_dim=32))
    x = torch.rand(16, 784) * (torch.rand(16, 784) > 0.6)
    expected, _ = autograd_gradients(model, x, seed=3, beta=beta)
    recon_only, _ = autograd_gradients(model, x, seed=3, beta=0.0)
    assert any(not torch.allclose(expected[k], recon_only[k]) for k in expected)  # the KL term matters
    for backward in (negative_elbo_backward, autograd_backward):
        model.zero_grad(set_to_none=True)
        loss = backward(model, x, torch.Generator().manual_seed(3), beta)
        assert_same_gradients(model, expected)
        with torch.no_grad():  # the returned terms are unweighted: reported losses stay the beta = 1 ELBO
            out = model(x, torch.Generator().manual_seed(3))
            terms = negative_elbo(out.logits, x, out.mu, out.logvar)
        assert loss.kl.item() == pytest.approx(terms.kl.sum().item(), rel=1e-5)


@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_the_conv_vae_trains_with_autograd(beta):
    torch.manual_seed(1)
    model = build_model(ModelConfig(latent_dim=3, architecture="conv"))
    assert not uses_manual_backward(model) and uses_manual_backward(VAE(ModelConfig(latent_dim=3)))
    x = torch.rand(4, 784)
    expected, _ = autograd_gradients(model, x, seed=2, beta=beta)
    model.zero_grad(set_to_none=True)
    compute_gradients(model, x, torch.Generator().manual_seed(2), beta)
    assert_same_gradients(model, expected)


def test_forward_with_activations_is_the_model_forward():
    model = VAE(ModelConfig(latent_dim=4, hidden_dim=32))
    x = torch.rand(6, 784)
    out = model(x, torch.Generator().manual_seed(1))
    with torch.no_grad():
        kept = forward_with_activations(model, x, torch.Generator().manual_seed(1))
    assert torch.equal(kept.z, out.z) and torch.equal(kept.mu, out.mu)
    assert torch.allclose(kept.logits, out.logits, atol=1e-6)


def test_gradients_overwrite_rather_than_accumulate():
    model = VAE(ModelConfig(latent_dim=2, hidden_dim=8))
    x = torch.rand(3, 784)
    negative_elbo_backward(model, x, torch.Generator().manual_seed(0))
    first = [p.grad.clone() for p in model.parameters()]
    negative_elbo_backward(model, x, torch.Generator().manual_seed(0))
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), first, strict=True))
    model.encoder_hidden.bias.grad = None  # as after zero_grad(set_to_none=True) on one parameter
    negative_elbo_backward(model, x, torch.Generator().manual_seed(0))
    assert torch.equal(model.encoder_hidden.bias.grad, first[1])


def test_bernoulli_nll_matches_torch_in_float64():
    logits = torch.randn(64, 784) * 12  # saturated pixels too
    x = torch.rand(64, 784) * (torch.rand(64, 784) > 0.5)
    exact = F.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none").sum(1)
    assert (bernoulli_nll(logits, x).double() - exact).abs().max().item() < 1e-3
    assert torch.isfinite(bernoulli_nll(torch.tensor([[1e4, -1e4]]), torch.tensor([[1.0, 0.0]]))).all()
