"""What every VAE here shares: the reparameterized forward pass and the mean images of the decoder."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..config import ModelConfig
from ..shapes import pictures


class VAEOutput(NamedTuple):
    """What ``forward`` returns for a batch of B images with latent size D.

    logits: [B, C x S x S] Bernoulli logits of the reconstruction ([B, 784] for MNIST).
    mu, logvar: [B, D] mean and log-variance of q(z|x).
    z: [B, D] the sample the logits were decoded from.
    """

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


class VariationalAutoencoder(nn.Module):
    """A Gaussian encoder q(z|x) and a Bernoulli decoder p(x|z) over flattened images [B, 784].

    Subclasses define ``encode`` and ``decode``; every caller (training, evaluation, the
    dashboard) sees images as [B, 784] and latents as [B, D], whatever the architecture.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] in [0, 1] -> (mu, logvar), each [B, D]."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> logits [B, 784]; ``torch.sigmoid`` of them is the mean image."""
        raise NotImplementedError

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I), so gradients flow through mu and sigma."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * torch.exp(0.5 * logvar)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return VAEOutput(self.decode(z), mu, logvar, z)

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, D] -> mean images in [0, 1]: [B, S, S] grey (MNIST: [B, 28, 28]), [B, S, S, 3] RGB."""
        return pictures(torch.sigmoid(self.decode(z)), self.config.channels, self.config.side)
