"""The VAE architectures: the built-ins (the MLP, the conv net) and the registry that also knows the plugins."""

from __future__ import annotations

from .base import VAEOutput, VariationalAutoencoder
from .conv import ConvVAE
from .mlp import VAE
from .registry import BUILTIN_MODELS, build_model, model_class

__all__ = ["BUILTIN_MODELS", "VAE", "ConvVAE", "VAEOutput", "VariationalAutoencoder", "build_model", "model_class"]
