import math

import torch

from vae_core.config import ModelConfig
from vae_core.losses import gaussian_kl_per_dim, negative_elbo
from vae_core.models import VAE, VAEOutput


def test_shapes_of_encode_decode_forward():
    model = VAE(ModelConfig(latent_dim=5, hidden_dim=32))
    x = torch.rand(7, 784)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (7, 5)
    assert model.decode(mu).shape == (7, 784)
    out = model(x)
    assert isinstance(out, VAEOutput)
    assert out.logits.shape == (7, 784) and out.z.shape == (7, 5)
    images = model.decode_images(torch.zeros(3, 5))
    assert images.shape == (3, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_default_architecture_is_the_canonical_mlp():
    model = VAE(ModelConfig(latent_dim=20))
    assert sum(p.numel() for p in model.parameters()) == 652_824


def test_loss_matches_a_hand_computation():
    logits = torch.tensor([[0.0, math.log(3.0)]])  # sigmoid: 0.5 and 0.75
    x = torch.tensor([[1.0, 0.5]])
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(2.0)]])
    terms = negative_elbo(logits, x, mu, logvar)
    recon = -math.log(0.5) - (0.5 * math.log(0.75) + 0.5 * math.log(0.25))
    kl_dims = [0.5 * 1.0, -0.5 * (1 + math.log(2.0) - 2.0)]
    assert torch.allclose(terms.recon, torch.tensor([recon]))
    assert torch.allclose(terms.kl_per_dim, torch.tensor([kl_dims]))
    assert torch.allclose(terms.loss, torch.tensor([recon + sum(kl_dims)]))


def test_kl_is_zero_when_posterior_equals_prior():
    kl = gaussian_kl_per_dim(torch.zeros(4, 3), torch.zeros(4, 3))
    assert torch.equal(kl, torch.zeros(4, 3))
    assert (gaussian_kl_per_dim(torch.randn(4, 3), torch.randn(4, 3)) > 0).all()


def test_reparameterize_uses_the_generator():
    mu, logvar = torch.zeros(2, 4), torch.zeros(2, 4)
    a = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(3))
    b = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert torch.allclose(VAE.reparameterize(mu + 2, logvar - 100), mu + 2)
