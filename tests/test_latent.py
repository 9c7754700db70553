"""Traversals and class arithmetic: the latent maths of vae_core.latent and the figures of vae_core.figures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core import figures, latent
from vae_core.config import ModelConfig
from vae_core.exports import ExportError
from vae_core.models import build_model


def test_ranking_orders_by_score_and_marks_the_dimensions_whose_means_do_not_vary():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((500, 4)) * np.array([0.5, 2.0, 0.001, 1.0])
    ranking = latent.rank_dimensions(mu)
    assert ranking.order == [1, 3, 0, 2]
    assert ranking.collapsed == {2}
    by_kl = latent.rank_dimensions(mu, kl_per_dim=np.array([3.0, 1.0, 0.0, 2.0]))
    assert by_kl.order == [0, 3, 1, 2] and by_kl.collapsed == {2} and "KL" in by_kl.measure


def test_traversal_moves_one_dimension_per_row_around_the_start_point():
    start = torch.tensor([0.5, -1.0, 2.0])
    offsets = latent.traversal_offsets(7)
    assert offsets[0] == -3.0 and offsets[-1] == 3.0 and offsets[3] == 0.0
    z = latent.traversal_latents(start, [2, 0], offsets)
    assert z.shape == (14, 3)
    rows = z.reshape(2, 7, 3)
    assert torch.allclose(rows[0, :, 2], 2.0 + torch.tensor(offsets, dtype=torch.float32))
    assert torch.equal(rows[0, :, :2], start[:2].expand(7, 2))  # every other dimension stays at the start
    assert torch.allclose(rows[1, :, 0], 0.5 + torch.tensor(offsets, dtype=torch.float32))
    assert torch.equal(rows[:, 3], start.expand(2, 3))  # the middle column is the start point itself
    with pytest.raises(ValueError):
        latent.traversal_offsets(1)


def test_traversal_figure_shape_order_and_collapsed_rows():
    model = build_model(ModelConfig(latent_dim=4, hidden_dim=8)).eval()
    mu = np.random.default_rng(1).standard_normal((100, 4)) * np.array([1.0, 0.0, 3.0, 0.5])
    ranking = latent.rank_dimensions(mu)
    shown = figures.traversal(model, torch.zeros(4), ranking, columns=5)
    assert shown.images.shape == (4, 5, 28, 28)
    assert shown.dims == [2, 0, 3, 1]
    assert shown.marked == {3} and shown.row_labels[3] == "z[1]  collapsed"
    assert shown.column_labels == ["-3", "-1.5", "start", "+1.5", "+3"]
    top = figures.traversal(model, torch.zeros(4), ranking, rows=2, columns=3)
    assert top.images.shape == (2, 3, 28, 28) and top.dims == [2, 0] and not top.marked


def test_class_means_morph_ends_and_the_added_direction():
    mu = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0]], dtype=np.float32)
    means = latent.class_means(mu, np.array([0, 0, 1, 1]), classes=3)
    assert torch.allclose(means[:2], torch.tensor([[1.0, 0.0], [0.0, 5.0]]))
    assert torch.isnan(means[2]).all()  # no digit of class 2: nothing to average
    strip = latent.morph(means, 0, 1, 5)
    assert strip.shape == (5, 2) and torch.equal(strip[0], means[0]) and torch.equal(strip[-1], means[1])
    z = torch.tensor([10.0, 10.0])
    moved = latent.add_direction(z, means, 0, 1, 3, strength=2.0)
    assert torch.equal(moved[0], z) and torch.allclose(moved[-1], z + 2 * (means[1] - means[0]))


def test_class_figures_decode_every_class_and_refuse_an_absent_one():
    model = build_model(ModelConfig(latent_dim=2, hidden_dim=8)).eval()
    means = latent.class_means(np.random.default_rng(0).standard_normal((30, 2)), np.arange(30) % 9)
    images = figures.class_mean_images(model, means)
    assert images.shape == (10, 28, 28) and images[9].max() == 0 and images[:9].max() > 0
    assert figures.morph_images(model, means, 1, 5, 6).shape == (6, 28, 28)
    assert figures.direction_images(model, torch.zeros(2), means, 1, 5, 4).shape == (4, 28, 28)
    with pytest.raises(ExportError, match="class 9 has no test digits"):
        figures.morph_images(model, means, 1, 9, 4)
    assert figures.morph_labels(4, 1, 5) == ["1", "", "", "5"]
    assert figures.strength_labels(3, 1.0) == ["digit", "+0.5", "+1"]
