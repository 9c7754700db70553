"""A plugin that is a plain nn.Module (not a VariationalAutoencoder subclass) with a decoder of every
layer kind the page runs: Linear, ReLU, Unflatten, nearest Upsample, Conv2d, LeakyReLU, ConvTranspose2d
with output padding, Sigmoid, Tanh, a view and a flatten, in functional and module forms."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vae_core.config import ModelConfig


class UpConvVAE(nn.Module):
    """Encoder: a small MLP. Decoder: z -> [8, 7, 7] -> upsampled x2 -> conv 3x3 -> [6, 14, 14] -> transposed conv,
    stride 2 -> [4, 28, 28] -> conv 5x5 -> [1, 28, 28] logits, flattened to [B, 784]."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.encoder = nn.Linear(784, 32)
        self.mu = nn.Linear(32, config.latent_dim)
        self.logvar = nn.Linear(32, config.latent_dim)
        self.fc = nn.Linear(config.latent_dim, 8 * 7 * 7)
        self.up = nn.Sequential(nn.Unflatten(1, (8, 7, 7)), nn.Upsample(scale_factor=2),
                                nn.Conv2d(8, 6, 3, padding=1), nn.LeakyReLU(0.1))
        self.deconv = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
        self.out = nn.Conv2d(4, 1, 5, padding=2)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] -> (mu, logvar), each [B, D]."""
        h = torch.relu(self.encoder(x))
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, 784]."""
        h = self.up(F.relu(self.fc(z)))
        h = torch.sigmoid(self.deconv(h)).view(-1, 4, 28, 28)
        return self.out(h.tanh()).flatten(1)
