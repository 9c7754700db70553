"""The test plugin the explorer trains and decodes in the page: an MLP whose decoder has an extra hidden
layer, a LeakyReLU and a Tanh (z -> h -> LeakyReLU -> h -> Tanh -> 784 logits)."""

from __future__ import annotations

import torch
from torch import nn

from vae_core.config import ModelConfig
from vae_core.models import VariationalAutoencoder


class LeakyVAE(VariationalAutoencoder):
    """784 -> hidden -> (mu, logvar) in R^D; z -> hidden -> hidden -> 784 logits."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        h = config.hidden_dim
        self.encoder = nn.Sequential(nn.Linear(784, h), nn.LeakyReLU(0.2))
        self.mu = nn.Linear(h, config.latent_dim)
        self.logvar = nn.Linear(h, config.latent_dim)
        self.decoder = nn.Sequential(nn.Linear(config.latent_dim, h), nn.LeakyReLU(0.2),
                                     nn.Linear(h, h), nn.Tanh(), nn.Linear(h, 784))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] -> (mu, logvar), each [B, D]."""
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, 784]."""
        return self.decoder(z)
