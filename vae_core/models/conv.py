"""A small convolutional VAE: two stride-2 convolutions down, their transposed mirror up.

Encoder: [B, 1, 28, 28] -> conv 4x4 stride 2 (32 channels) -> 14 x 14 -> conv 4x4 stride 2
(64 channels) -> 7 x 7 -> flatten (3136) -> Linear to mu and to logvar [B, D].
Decoder: z [B, D] -> Linear to 3136 -> [B, 64, 7, 7] -> transposed conv (32) -> 14 x 14 ->
transposed conv (1) -> 28 x 28 Bernoulli logits, flattened to [B, 784].
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..config import IMAGE_SIDE, ModelConfig
from ..shapes import CONV_CHANNELS as CHANNELS
from ..shapes import CONV_FEATURES as FEATURES  # 3136 = 64 x 7 x 7
from .base import VariationalAutoencoder

FEATURE_SIDE = IMAGE_SIDE // 4  # 7: two stride-2 steps


class ConvVAE(VariationalAutoencoder):
    """The conv encoder and decoder above; ``hidden_dim`` of the config is not used."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        first, second = CHANNELS
        self.encoder_conv1 = nn.Conv2d(1, first, kernel_size=4, stride=2, padding=1)
        self.encoder_conv2 = nn.Conv2d(first, second, kernel_size=4, stride=2, padding=1)
        self.encoder_mu = nn.Linear(FEATURES, config.latent_dim)
        self.encoder_logvar = nn.Linear(FEATURES, config.latent_dim)
        self.decoder_in = nn.Linear(config.latent_dim, FEATURES)
        self.decoder_deconv1 = nn.ConvTranspose2d(second, first, kernel_size=4, stride=2, padding=1)
        self.decoder_deconv2 = nn.ConvTranspose2d(first, 1, kernel_size=4, stride=2, padding=1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] in [0, 1] -> (mu, logvar), each [B, D]."""
        h = F.relu(self.encoder_conv1(x.reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE)))
        h = F.relu(self.encoder_conv2(h)).flatten(1)
        return self.encoder_mu(h), self.encoder_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, 784]."""
        h = F.relu(self.decoder_in(z)).reshape(-1, CHANNELS[1], FEATURE_SIDE, FEATURE_SIDE)
        h = F.relu(self.decoder_deconv1(h))
        return self.decoder_deconv2(h).flatten(1)
