"""The VAE: the canonical MLP of pytorch/examples, with a decoder that emits logits."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .config import ModelConfig


class VAEOutput(NamedTuple):
    """What ``VAE.forward`` returns for a batch of B images with latent size D.

    logits: [B, 784] Bernoulli logits of the reconstruction.
    mu, logvar: [B, D] mean and log-variance of q(z|x).
    z: [B, D] the sample the logits were decoded from.
    """

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


class VAE(nn.Module):
    """784 -> hidden -> (mu, logvar) in R^D; z -> hidden -> 784 logits."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder_hidden = nn.Linear(config.input_dim, config.hidden_dim)
        self.encoder_mu = nn.Linear(config.hidden_dim, config.latent_dim)
        self.encoder_logvar = nn.Linear(config.hidden_dim, config.latent_dim)
        self.decoder_hidden = nn.Linear(config.latent_dim, config.hidden_dim)
        self.decoder_out = nn.Linear(config.hidden_dim, config.input_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] in [0, 1] -> (mu, logvar), each [B, D]."""
        h = F.relu(self.encoder_hidden(x))
        return self.encoder_mu(h), self.encoder_logvar(h)

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I), so gradients flow through mu and sigma."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * torch.exp(0.5 * logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, 784]; ``torch.sigmoid`` of them is the mean image."""
        return self.decoder_out(F.relu(self.decoder_hidden(z)))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return VAEOutput(self.decode(z), mu, logvar, z)

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> mean images [B, 28, 28] in [0, 1]."""
        return torch.sigmoid(self.decode(z)).reshape(-1, 28, 28)
