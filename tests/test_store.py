import json

import pytest
import torch

from tests.conftest import TINY_TRAIN, write_tiny_checkpoint
from vae_core import store
from vae_core.atomic import SaveError
from vae_core.config import ModelConfig
from vae_core.projections import load_projections
from vae_core.train import evaluate_elbo


@pytest.fixture
def checkpoint(tmp_path, tiny_data):
    return write_tiny_checkpoint(tmp_path, *tiny_data)


def test_save_load_round_trip_gives_the_same_model(checkpoint, tiny_data):
    reread = store.read_checkpoint(checkpoint.path)
    assert reread.model_config == ModelConfig(latent_dim=2, hidden_dim=16)
    assert reread.train_config == TINY_TRAIN
    model = store.load_model(reread)
    again = store.load_model(store.read_checkpoint(checkpoint.path))
    z = torch.randn(4, 2)
    assert torch.equal(model.decode(z), again.decode(z))
    stored = reread.final["test_loss"]
    assert evaluate_elbo(model, tiny_data[1].images, seed=TINY_TRAIN.seed)["loss"] == pytest.approx(stored)


def test_directory_name_is_derived_from_the_config(checkpoint):
    assert checkpoint.name == "mnist-z2-h16-e2-b32-lr0.001-s0"
    assert sorted(p.name for p in checkpoint.path.iterdir()) == [
        "config.json", "history.json", "model.safetensors", "projections.npz"]
    config = json.loads((checkpoint.path / "config.json").read_text())
    assert config["format_version"] == store.FORMAT_VERSION
    assert list(config) == sorted(config)


def test_projections_are_cached_beside_the_weights(checkpoint):
    arrays = load_projections(checkpoint)
    assert arrays["mu"].shape == (200, 2) and arrays["pca"].shape == (200, 2)
    assert arrays["tsne"].shape == (100, 2) and arrays["tsne_index"].shape == (100,)


def test_failed_save_leaves_nothing_behind(tmp_path, tiny_data, monkeypatch):
    def broken_save_file(tensors, path):
        path.write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "save_file", broken_save_file)
    with pytest.raises(SaveError, match="no space left"):
        write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_checkpoint(checkpoint, tiny_data, monkeypatch):
    before = (checkpoint.path / "model.safetensors").read_bytes()
    monkeypatch.setattr(store, "_write_json", lambda *a: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(SaveError):
        write_tiny_checkpoint(checkpoint.path.parent, *tiny_data, with_projections=False)
    assert (checkpoint.path / "model.safetensors").read_bytes() == before
    assert [p.name for p in checkpoint.path.parent.iterdir()] == [checkpoint.name]


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / "model.safetensors").write_bytes(b"\x00" * 10), "not a readable safetensors"),
    (lambda p: (p / "model.safetensors").write_bytes((p / "model.safetensors").read_bytes()[:3000]),
     "not a readable safetensors"),
    (lambda p: (p / "config.json").write_text("{not json"), "not valid JSON"),
    (lambda p: (p / "history.json").unlink(), "history.json is missing"),
])
def test_corrupt_checkpoints_are_reported_and_skipped(checkpoint, tiny_data, damage, message):
    good = write_tiny_checkpoint(checkpoint.path.parent, *tiny_data, latent_dim=3, with_projections=False)
    damage(checkpoint.path)
    found, problems = store.scan(checkpoint.path.parent)
    assert [c.name for c in found] == [good.name]
    assert len(problems) == 1 and message in problems[0].message
    assert store.find(checkpoint.path.parent, checkpoint.model_config, checkpoint.train_config) is None


def test_config_that_does_not_match_the_weights_is_refused(checkpoint):
    config = json.loads((checkpoint.path / "config.json").read_text())
    config["model"]["latent_dim"] = 7
    (checkpoint.path / "config.json").write_text(json.dumps(config))
    expected = r"has shape \(16, 2\) but config.json \(latent 7\) needs \(16, 7\)"
    with pytest.raises(store.CheckpointError, match=expected):
        store.read_checkpoint(checkpoint.path)


@pytest.mark.parametrize("name", ["..", "../etc", "a/b", ".resume-x", "", "/abs"])
def test_checkpoint_names_cannot_leave_the_root(tmp_path, name):
    with pytest.raises(store.CheckpointError):
        store.checkpoint_path(tmp_path, name)


def test_recover_dir_restores_an_old_copy_left_by_a_crash(checkpoint):
    aside = checkpoint.path.with_name(f".old-{checkpoint.name}-deadbeef")
    checkpoint.path.rename(aside)
    partial = checkpoint.path.with_name(f".tmp-{checkpoint.name}-cafebabe")
    partial.mkdir()
    store.recover_dir(checkpoint.path)
    assert store.read_checkpoint(checkpoint.path).name == checkpoint.name
    assert not aside.exists() and not partial.exists()
