"""The hand-written backward pass against autograd, and the fast Bernoulli NLL against torch's."""

import pytest
import torch
from torch.nn import functional as F

from vae_core.config import ModelConfig
from vae_core.gradients import forward_with_activations, negative_elbo_backward
from vae_core.losses import bernoulli_nll, negative_elbo
from vae_core.model import VAE


def autograd_gradients(model: VAE, x: torch.Tensor, seed: int) -> tuple[dict[str, torch.Tensor], float]:
    """Gradients of the mean negative ELBO through autograd, with the noise of ``seed``."""
    model.zero_grad(set_to_none=True)
    out = model(x, torch.Generator().manual_seed(seed))
    loss = negative_elbo(out.logits, x, out.mu, out.logvar).loss.mean()
    loss.backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}, loss.item()


@pytest.mark.parametrize(("latent_dim", "hidden_dim", "batch"), [(2, 16, 1), (3, 7, 5), (20, 400, 128)])
def test_hand_written_gradients_equal_autograd(latent_dim, hidden_dim, batch):
    torch.manual_seed(latent_dim)
    model = VAE(ModelConfig(latent_dim=latent_dim, hidden_dim=hidden_dim))
    x = torch.rand(batch, 784) * (torch.rand(batch, 784) > 0.6)  # MNIST-like: mostly zeros
    expected, expected_loss = autograd_gradients(model, x, seed=5)

    model.zero_grad(set_to_none=True)
    loss = negative_elbo_backward(model, x, torch.Generator().manual_seed(5))

    assert (loss.recon + loss.kl).item() / batch == pytest.approx(expected_loss, rel=1e-5)
    for name, p in model.named_parameters():
        scale = expected[name].abs().max().item()
        assert (p.grad - expected[name]).abs().max().item() <= 1e-4 * scale + 1e-7, name


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
