"""Models of images other than MNIST's 28 x 28 grey: RGB and other sides, for the MLP and the conv VAE alike."""

from __future__ import annotations

import pytest
import torch

from vae_core import shapes
from vae_core.config import ConfigError, ModelConfig
from vae_core.layer_list import decoder_layers, run_layers
from vae_core.migrations import migrate
from vae_core.models import build_model


@pytest.mark.parametrize(("architecture", "channels", "side"), [("mlp", 3, 32), ("conv", 3, 32), ("conv", 1, 16),
                                                                ("mlp", 1, 8), ("conv", 3, 28)])
def test_a_model_of_any_image_shape_encodes_decodes_and_draws_its_pictures(architecture, channels, side):
    config = ModelConfig.for_images(4, channels, side, architecture=architecture, hidden_dim=64)
    model = build_model(config).eval()
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == shapes.parameter_shapes(config)
    images = torch.rand(5, channels * side * side)
    mu, logvar = model.encode(images)
    assert mu.shape == logvar.shape == (5, 4)
    logits = model.decode(mu)
    assert logits.shape == (5, channels * side * side)
    pictures = model.decode_images(mu)
    assert pictures.shape == ((5, side, side) if channels == 1 else (5, side, side, 3))
    # Channels last: pixel (row 2, column 3) of channel 1 is value 1 x S x S + 2 x S + 3 of the flat image.
    flat = torch.sigmoid(logits)
    if channels == 3:
        assert pictures[0, 2, 3, 1] == flat[0, side * side + 2 * side + 3]
    # The page's layer list reproduces the decoder.
    layers = decoder_layers(model)
    assert layers.reason is None
    tensors = dict(model.state_dict())
    assert torch.allclose(run_layers(layers.ops, tensors, mu), logits, atol=1e-5)


def test_an_image_shape_that_does_not_fit_is_one_line_naming_the_fix():
    with pytest.raises(ConfigError, match="divisible by 4"):
        ModelConfig.for_images(2, 1, 30, architecture="conv")
    with pytest.raises(ConfigError, match="1 \\(grey\\) or 3 \\(RGB\\) channels"):
        ModelConfig.for_images(2, 2, 28)
    with pytest.raises(ConfigError, match="8 to 64 pixels"):
        ModelConfig.for_images(2, 3, 96)
    with pytest.raises(ConfigError, match="is not 3 x 32 x 32"):
        ModelConfig(latent_dim=2, input_dim=784, channels=3, side=32)


def test_a_checkpoint_written_before_image_shapes_reads_as_28_x_28_grey():
    old = {"format_version": 3, "model": {"latent_dim": 2, "hidden_dim": 400, "input_dim": 784,
                                          "architecture": "mlp"},
           "train": {"dataset": "mnist"}, "source": None}
    assert migrate(old, "old")["model"] == {**old["model"], "channels": 1, "side": 28}
