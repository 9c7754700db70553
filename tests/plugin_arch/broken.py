"""A plugin that breaks the contract: a VariationalAutoencoder without a decode of its own."""

from __future__ import annotations

import torch
from torch import nn

from vae_core.config import ModelConfig
from vae_core.models import VariationalAutoencoder


class NoDecode(VariationalAutoencoder):
    """Encodes, but never says how to decode."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.encoder = nn.Linear(784, 2 * config.latent_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] -> (mu, logvar), each [B, D]."""
        return self.encoder(x).chunk(2, dim=1)
