"""A small convolutional VAE: two stride-2 convolutions down, their transposed mirror up.

For MNIST (C = 1, S = 28; any C and any S divisible by 4 the same way):
Encoder: [B, 1, 28, 28] -> conv 4x4 stride 2 (32 channels) -> 14 x 14 -> conv 4x4 stride 2
(64 channels) -> 7 x 7 -> flatten (3136) -> Linear to mu and to logvar [B, D].
Decoder: z [B, D] -> Linear to 3136 -> [B, 64, 7, 7] -> transposed conv (32) -> 14 x 14 ->
transposed conv (C) -> 28 x 28 Bernoulli logits per channel, flattened to [B, C x 28 x 28].
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..config import ModelConfig
from ..shapes import CONV_CHANNELS as CHANNELS
from ..shapes import conv_features
from .base import VariationalAutoencoder


class ConvVAE(VariationalAutoencoder):
    """The conv encoder and decoder above; ``hidden_dim`` of the config is not used."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        first, second = CHANNELS
        features, channels = conv_features(config.side), config.channels
        self.feature_side = config.side // 4  # two stride-2 steps: 28 -> 7, 32 -> 8
        self.encoder_conv1 = nn.Conv2d(channels, first, kernel_size=4, stride=2, padding=1)
        self.encoder_conv2 = nn.Conv2d(first, second, kernel_size=4, stride=2, padding=1)
        self.encoder_mu = nn.Linear(features, config.latent_dim)
        self.encoder_logvar = nn.Linear(features, config.latent_dim)
        self.decoder_in = nn.Linear(config.latent_dim, features)
        self.decoder_deconv1 = nn.ConvTranspose2d(second, first, kernel_size=4, stride=2, padding=1)
        self.decoder_deconv2 = nn.ConvTranspose2d(first, channels, kernel_size=4, stride=2, padding=1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C x S x S] in [0, 1] -> (mu, logvar), each [B, D]."""
        h = F.relu(self.encoder_conv1(x.reshape(-1, *self.config.image_shape)))
        h = F.relu(self.encoder_conv2(h)).flatten(1)
        return self.encoder_mu(h), self.encoder_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, C x S x S]."""
        h = F.relu(self.decoder_in(z)).reshape(-1, CHANNELS[1], self.feature_side, self.feature_side)
        h = F.relu(self.decoder_deconv1(h))
        return self.decoder_deconv2(h).flatten(1)
