"""A checkpoint root of RGB models for the tests and benchmarks of the live decoder and the map's thumbnails.

The data: scikit-learn's ``load_digits`` (8 x 8 scans shipped inside scikit-learn) tinted into RGB (red the scan,
green half of it, blue its negative, as tests/test_user_data.py does), written as an image folder and registered
with ``vae_core.user_data`` under ``<root>/datasets/NAME`` at the side asked for. The models: a conv VAE or an MLP
of ``ModelConfig.for_images(latent_dim, 3, side)``, trained for a few Adam steps (the point is a decoder whose
pictures differ from point to point, not a good one), saved with ``vae_core.store`` and given the quick maps
(``projections.quick_maps``) that the Latent map and the explorer's plane read. ``SKIP`` registers tests/plugin_arch's
skip-connection VAE (any image shape; a decoder the page cannot run) under a name of its own, for the server's
picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vae_core import store, user_data
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import load_split
from vae_core.losses import negative_elbo
from vae_core.models import build_model
from vae_core.projections import quick_maps, save_projections

DIGITS = 300  # tinted scans registered per data set (a sixth of them the test split)
# tests/plugin_arch's skip-connection VAE (its layers follow the config's image shape) under a name of its own: a
# decoder the page cannot run, so the server draws its pictures (tests.plugin_arch.install)
SKIP = {"skiprgb": "tests.plugin_arch.residual:ResidualVAE"}


def tinted_digits(count: int = DIGITS) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` of scikit-learn's digit scans tinted: uint8 [N, 8, 8, 3] and labels [N]."""
    from sklearn.datasets import load_digits

    loaded = load_digits()
    grey = np.rint(loaded.images[:count] * 255 / 16).astype(np.uint8)
    return np.stack([grey, grey // 2, 255 - grey], axis=-1), loaded.target[:count].astype(np.int64)


def register_tinted(root: Path, name: str, side: int, folder: Path) -> user_data.DatasetInfo:
    """Write the tinted scans as FOLDER/<label>/<row>.png and register them as ``name`` at ``side`` under ``root``."""
    images, labels = tinted_digits()
    for row, (image, label) in enumerate(zip(images, labels, strict=True)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / str(label) / f"{row:05d}.png")
    info, _ = user_data.register(root, name, folder, side=side)
    assert (info.channels, info.side) == (3, side)
    return info


def write_rgb_checkpoint(root: Path, dataset: str, architecture: str, latent_dim: int, side: int,
                         steps: int = 60) -> store.Checkpoint:
    """An RGB model of ``dataset`` (registered under ``root``), trained ``steps`` Adam steps, saved with its maps."""
    torch.manual_seed(0)
    train = load_split(dataset, train=True, checkpoint_dir=root)
    test = load_split(dataset, train=False, checkpoint_dir=root)
    model = build_model(ModelConfig.for_images(latent_dim, 3, side, hidden_dim=64, architecture=architecture))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        batch = train.images[torch.randint(len(train.images), (32,), generator=generator)]
        out = model(batch, generator)
        terms = negative_elbo(out.logits, batch, out.mu, out.logvar)
        optimizer.zero_grad()
        (terms.recon + terms.kl).mean().backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(test.images)
        terms = negative_elbo(out.logits, test.images, out.mu, out.logvar)
    loss = {"recon": float(terms.recon.mean()), "kl": float(terms.kl.mean())}
    history = [{"epoch": 1, "train_loss": loss["recon"] + loss["kl"], "test_loss": loss["recon"] + loss["kl"],
                "train_recon": loss["recon"], "train_kl": loss["kl"], "test_recon": loss["recon"],
                "test_kl": loss["kl"], "seconds": 1.0}]
    train_config = TrainConfig(dataset=dataset, epochs=1, batch_size=32, lr=3e-3)
    checkpoint = store.save_checkpoint(root, model, train_config, history)
    save_projections(checkpoint, quick_maps(model, test))
    return checkpoint


def rgb_root(root: Path, scratch: Path, conv_latent: int = 4, mlp_latent: int = 3) -> dict[str, store.Checkpoint]:
    """``root`` with the tinted scans registered at 32 ("tinted32") and 16 ("tinted16"), an RGB 32 x 32 conv VAE of
    the first and an RGB MLP at side 16 of the second: {"conv": checkpoint, "mlp": checkpoint}."""
    register_tinted(root, "tinted32", 32, scratch / "tinted32")
    register_tinted(root, "tinted16", 16, scratch / "tinted16")
    return {"conv": write_rgb_checkpoint(root, "tinted32", "conv", conv_latent, 32),
            "mlp": write_rgb_checkpoint(root, "tinted16", "mlp", mlp_latent, 16)}

