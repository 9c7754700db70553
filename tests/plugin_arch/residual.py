"""A plugin whose decoder is not a chain (a skip connection): the page cannot run it, the server decodes it."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vae_core.config import ModelConfig
from vae_core.models import VariationalAutoencoder


class ResidualVAE(VariationalAutoencoder):
    """C x S x S (784 for MNIST) -> 32 -> (mu, logvar); z -> 32 -> 32 + skip -> C x S x S logits."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.encoder = nn.Linear(config.input_dim, 32)
        self.mu = nn.Linear(32, config.latent_dim)
        self.logvar = nn.Linear(32, config.latent_dim)
        self.fc1 = nn.Linear(config.latent_dim, 32)
        self.fc2 = nn.Linear(32, 32)
        self.out = nn.Linear(32, config.input_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C x S x S] -> (mu, logvar), each [B, D]."""
        h = F.relu(self.encoder(x))
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, C x S x S]."""
        h = F.relu(self.fc1(z))
        return self.out(h + F.relu(self.fc2(h)))
