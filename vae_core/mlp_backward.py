"""The MLP's backward pass: the gradient of the beta-weighted negative ELBO, written out layer by layer.

This is the training fast path for the exact MLP (``models.mlp.VAE``); every other model
trains with autograd (``train.compute_gradients`` holds the switch).

Autograd computes the same numbers (tests/test_gradients.py checks every parameter
against it), but on a 2-core CPU its bookkeeping and torch's BCE kernel made a training
step about a fifth slower; most of what remains is matrix products. The model is five
Linear layers, so the backward pass is short enough to write down:

    loss L = 1/B sum_i [ recon_i + beta KL_i ]       (beta = 1: mean negative ELBO of the batch)
    recon  = sum_p softplus(l_p) - x_p l_p           dL/dl      = (sigmoid(l) - x) / B
    z      = mu + eps * std,  std = exp(logvar / 2)  dz/dmu     = 1,  dz/dlogvar = eps * std / 2
    KL     = 1/2 sum_d (mu^2 + std^2 - 1 - logvar)   dKL/dmu    = mu, dKL/dlogvar = (std^2 - 1) / 2
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .losses import bernoulli_nll, gaussian_kl_per_dim
from .models import VAE


class Activations(NamedTuple):
    """The forward pass of ``VAE`` for B images, hidden width H, latent size D, kept for the backward.

    h_enc, h_dec: [B, H] hidden layers after ReLU.
    mu, logvar, std, eps, z: [B, D]; z = mu + eps * std.
    logits: [B, 784].
    """

    h_enc: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    std: torch.Tensor
    eps: torch.Tensor
    z: torch.Tensor
    h_dec: torch.Tensor
    logits: torch.Tensor


class BatchLoss(NamedTuple):
    """Summed over the batch, in nats (0-d tensors): divide by B for the per-image mean."""

    recon: torch.Tensor
    kl: torch.Tensor


def forward_with_activations(model: VAE, x: torch.Tensor, generator: torch.Generator | None) -> Activations:
    """``model(x, generator)`` [B, 784], keeping the hidden layers; draws the same noise."""
    h_enc = model.encoder_hidden(x).relu_()
    mu, logvar = model.encoder_mu(h_enc), model.encoder_logvar(h_enc)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    std = torch.exp(0.5 * logvar)
    z = mu + eps * std
    h_dec = model.decoder_hidden(z).relu_()
    return Activations(h_enc, mu, logvar, std, eps, z, h_dec, model.decoder_out(h_dec))


@torch.no_grad()
def negative_elbo_backward(model: VAE, x: torch.Tensor, generator: torch.Generator | None,
                           beta: float = 1.0) -> BatchLoss:
    """Set ``.grad`` of every parameter to the gradient of the batch's mean of recon + beta * KL.

    x: [B, 784] grey levels in [0, 1]; one z sample per image from ``generator``.
    Returns the batch's summed recon and (unweighted) KL. Nothing is accumulated: each call
    overwrites the gradients, so no ``zero_grad`` is needed between steps.
    """
    a = forward_with_activations(model, x, generator)
    loss = BatchLoss(bernoulli_nll(a.logits, x).sum(), gaussian_kl_per_dim(a.mu, a.logvar).sum())
    batch = len(x)

    grad_logits = torch.sigmoid(a.logits).sub_(x).div_(batch)
    grad_h_dec = _relu_backward(_linear_backward(model.decoder_out, grad_logits, a.h_dec), a.h_dec)
    grad_z = _linear_backward(model.decoder_hidden, grad_h_dec, a.z)
    grad_mu = grad_z + a.mu * beta / batch
    grad_logvar = grad_z * a.eps * a.std * 0.5 + (a.std.square() - 1) * (0.5 * beta / batch)
    grad_h_enc = _linear_backward(model.encoder_mu, grad_mu, a.h_enc)
    grad_h_enc += _linear_backward(model.encoder_logvar, grad_logvar, a.h_enc)
    _linear_backward(model.encoder_hidden, _relu_backward(grad_h_enc, a.h_enc), x, needs_input_grad=False)
    return loss


def _linear_backward(layer: nn.Linear, grad_out: torch.Tensor, inputs: torch.Tensor,
                     needs_input_grad: bool = True) -> torch.Tensor | None:
    """y = inputs @ W.T + b, grad_out = dL/dy [B, out]: set W.grad [out, in] and b.grad [out].

    Writes into the gradient buffers of the previous step (fresh 1.2 MB buffers each step
    cost ~3 %). Returns dL/dinputs [B, in], or None when the input is the data.
    """
    torch.mm(grad_out.t(), inputs, out=_grad_buffer(layer.weight))
    torch.sum(grad_out, dim=0, out=_grad_buffer(layer.bias))
    return grad_out @ layer.weight if needs_input_grad else None


def _grad_buffer(param: nn.Parameter) -> torch.Tensor:
    """``param.grad``, allocated on first use (or after ``zero_grad(set_to_none=True)``)."""
    if param.grad is None:
        param.grad = torch.empty_like(param)
    return param.grad


def _relu_backward(grad_out: torch.Tensor, relu_out: torch.Tensor) -> torch.Tensor:
    """dL/dpre from dL/drelu_out, in place: ReLU outputs are >= 0, so their sign is the 0/1 derivative.

    (A 0/1 float mask, one op; ``grad * (relu_out > 0)`` converts a bool mask and costs 3x more.)
    """
    return grad_out.mul_(relu_out.sign())
