"""Pure latent-space helpers used by the dashboard: shapes, ordering and images."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vae_core import explore
from vae_core.config import ModelConfig
from vae_core.models import VAE


def test_prior_samples_are_seeded_and_scaled_by_temperature():
    a = explore.prior_samples(5, 4, seed=3)
    assert a.shape == (4, 5)
    assert torch.equal(a, explore.prior_samples(5, 4, seed=3))
    assert not torch.equal(a, explore.prior_samples(5, 4, seed=4))
    assert torch.allclose(explore.prior_samples(5, 4, seed=3, temperature=0.5), a * 0.5)
    with pytest.raises(ValueError, match="temperature"):
        explore.prior_samples(5, 4, seed=3, temperature=0.0)


def test_normal_quantiles_are_symmetric_and_increasing():
    values = explore.normal_quantiles(7)
    assert np.all(np.diff(values) > 0)
    assert np.allclose(values, -values[::-1])
    assert values[-1] == pytest.approx(1.6449, abs=1e-3)  # the 95% quantile


def test_manifold_latents_sweep_two_dims_and_hold_the_rest():
    base = torch.tensor([0.5, -1.0, 2.0])
    values = np.array([-1.0, 0.0, 1.0])
    z = explore.manifold_latents(base, (0, 2), values)
    assert z.shape == (9, 3)
    assert torch.all(z[:, 1] == -1.0)
    grid = z.reshape(3, 3, 3)
    assert grid[0, :, 0].tolist() == [-1.0, 0.0, 1.0]  # columns: first dim left to right
    assert grid[:, 0, 2].tolist() == [1.0, 0.0, -1.0]  # rows: second dim from top (high) down
    with pytest.raises(ValueError, match="different"):
        explore.manifold_latents(base, (1, 1), values)


def test_interpolate_includes_both_ends():
    start, end = torch.zeros(4), torch.ones(4) * 2
    path = explore.interpolate(start, end, 5)
    assert path.shape == (5, 4)
    assert torch.equal(path[0], start) and torch.equal(path[-1], end)
    assert torch.allclose(path[2], torch.ones(4))


def test_dims_ordered_by_kl_put_used_dimensions_first():
    mu = torch.zeros(100, 3)
    mu[:, 2] = torch.linspace(-2, 2, 100)  # only dimension 2 carries information
    logvar = torch.zeros(100, 3)
    logvar[:, 2] = -4.0
    kl = explore.mean_kl_per_dim(mu, logvar)
    assert kl[0].item() == pytest.approx(0.0, abs=1e-6) and kl[2] > 1.0
    assert explore.dims_by_information(kl)[0] == 2
    assert explore.dims_by_information(explore.mean_part_of_kl(mu.numpy()))[0] == 2


def test_decode_and_reconstruct_give_images_in_unit_range():
    torch.manual_seed(0)
    model = VAE(ModelConfig(latent_dim=2, hidden_dim=8)).eval()
    images = explore.decode(model, torch.zeros(3, 2))
    assert images.shape == (3, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert explore.reconstruct(model, torch.rand(2, 784)).shape == (2, 28, 28)


def test_tile_places_images_row_major_with_borders():
    images = np.stack([np.full((28, 28), v) for v in (0.0, 1.0, 0.5)])
    grid = explore.tile(images, columns=2, pad=1)
    assert grid.dtype == np.uint8 and grid.shape == (2 * 29 + 1, 2 * 29 + 1)
    assert grid[1, 1] == 0 and grid[1, 30] == 255 and grid[30, 1] == 128
    assert grid[0, 0] == round(0.35 * 255)  # border


def test_png_bytes_upscale_with_nearest_neighbour():
    image = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    decoded = np.array(Image.open(io.BytesIO(explore.png_bytes(image, factor=3))))
    assert decoded.shape == (6, 6)
    assert set(np.unique(decoded)) == {0, 255}  # no blended grey: crisp pixels
    assert decoded[:3, :3].max() == 0 and decoded[:3, 3:].min() == 255
