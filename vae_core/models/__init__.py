"""The VAE architectures and the registry that maps a config's ``architecture`` to its class."""

from __future__ import annotations

from ..config import ModelConfig
from .base import VAEOutput, VariationalAutoencoder
from .conv import ConvVAE
from .mlp import VAE

MODELS: dict[str, type[VariationalAutoencoder]] = {"mlp": VAE, "conv": ConvVAE}


def build_model(config: ModelConfig) -> VariationalAutoencoder:
    """A freshly initialised model of ``config.architecture`` (weights from torch's current seed)."""
    return MODELS[config.architecture](config)


__all__ = ["MODELS", "VAE", "ConvVAE", "VAEOutput", "VariationalAutoencoder", "build_model"]
