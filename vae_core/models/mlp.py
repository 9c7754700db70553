"""The canonical MLP VAE of pytorch/examples, with a decoder that emits logits."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..config import ModelConfig
from .base import VariationalAutoencoder


class VAE(VariationalAutoencoder):
    """784 -> hidden -> (mu, logvar) in R^D; z -> hidden -> 784 logits."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.encoder_hidden = nn.Linear(config.input_dim, config.hidden_dim)
        self.encoder_mu = nn.Linear(config.hidden_dim, config.latent_dim)
        self.encoder_logvar = nn.Linear(config.hidden_dim, config.latent_dim)
        self.decoder_hidden = nn.Linear(config.latent_dim, config.hidden_dim)
        self.decoder_out = nn.Linear(config.hidden_dim, config.input_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] in [0, 1] -> (mu, logvar), each [B, D]."""
        h = F.relu(self.encoder_hidden(x))
        return self.encoder_mu(h), self.encoder_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, 784]; ``torch.sigmoid`` of them is the mean image."""
        return self.decoder_out(F.relu(self.decoder_hidden(z)))
