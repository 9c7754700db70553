"""The negative ELBO per image, in nats, split into its terms."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.nn import functional as F


class ELBOTerms(NamedTuple):
    """Per-image terms for a batch of B images with latent size D (all in nats).

    recon: [B] Bernoulli cross-entropy summed over the 784 pixels.
    kl: [B] KL(q(z|x) || N(0, I)).
    kl_per_dim: [B, D] the KL split by latent dimension (sums to ``kl``).
    """

    recon: torch.Tensor
    kl: torch.Tensor
    kl_per_dim: torch.Tensor

    @property
    def loss(self) -> torch.Tensor:
        """[B] negative ELBO = recon + kl."""
        return self.recon + self.kl


def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) per dimension, [B, D].

    Kingma and Welling 2014, Appendix B: -KL = 1/2 * (1 + log sigma^2 - mu^2 - sigma^2).
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def negative_elbo(
    logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> ELBOTerms:
    """logits, x: [B, 784] (x grey levels in [0, 1]); mu, logvar: [B, D]."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl_per_dim = gaussian_kl_per_dim(mu, logvar)
    return ELBOTerms(recon=recon, kl=kl_per_dim.sum(dim=1), kl_per_dim=kl_per_dim)
