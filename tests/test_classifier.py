import json

import pytest
import torch

from tests.conftest import write_tiny_checkpoint
from vae_core import store
from vae_core.classifier import (
    DigitClassifier,
    accuracy,
    classifier_name,
    load_classifier,
    predict_features,
    predict_proba,
    save_classifier,
    train_classifier,
)
from vae_core.cli import main
from vae_core.config import TrainConfig
from vae_core.data import load_split

TINY_CLASSIFIER_TRAIN = TrainConfig(epochs=3, batch_size=32, lr=3e-3, seed=0)


@pytest.fixture(scope="module")
def tiny_classifier(tiny_data):
    model, history = train_classifier(*tiny_data, TINY_CLASSIFIER_TRAIN)
    return model, history


def test_predict_accepts_square_and_flat_images():
    torch.manual_seed(0)
    model = DigitClassifier().eval()
    square = torch.rand(5, 28, 28)
    probabilities = predict_proba(model, square)
    assert probabilities.shape == (5, 10)
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(5))
    torch.testing.assert_close(predict_proba(model, square.reshape(5, 784)), probabilities)
    assert predict_features(model, square).shape == (5, model.config.hidden)


@pytest.mark.parametrize("shape", [(5, 100), (784,), (5, 27, 29)])
def test_predict_refuses_other_shapes(shape):
    with pytest.raises(ValueError, match=r"\[B, 28, 28\] or \[B, 784\]"):
        predict_proba(DigitClassifier(), torch.rand(shape))


def test_learns_synthetic_digits(tiny_classifier, tiny_data):
    model, history = tiny_classifier
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert accuracy(model, tiny_data[1]) > 0.9  # row bands are easy: a broken loop stays near 0.1


def test_save_load_round_trip_and_scan_skips_it(tmp_path, tiny_classifier, tiny_data):
    model, history = tiny_classifier
    write_tiny_checkpoint(tmp_path, *tiny_data, with_projections=False)
    path = save_classifier(tmp_path, model, TINY_CLASSIFIER_TRAIN, history)
    assert path == tmp_path / classifier_name("mnist")
    assert json.loads((path / store.CONFIG_FILE).read_text())["kind"] == "classifier"

    loaded, meta = load_classifier(tmp_path, "mnist")
    images = tiny_data[1].images[:20]
    torch.testing.assert_close(predict_proba(loaded, images), predict_proba(model, images))
    assert meta["test_accuracy"] == history[-1]["test_accuracy"]

    checkpoints, problems = store.scan(tmp_path)
    assert [c.model_config.latent_dim for c in checkpoints] == [2]
    assert problems == []


def test_missing_or_broken_classifier_names_the_fix(tmp_path, tiny_classifier):
    with pytest.raises(store.CheckpointError, match="vae-explorer train-classifier"):
        load_classifier(tmp_path, "mnist")
    path = save_classifier(tmp_path, tiny_classifier[0], TINY_CLASSIFIER_TRAIN, tiny_classifier[1])
    (path / store.MODEL_FILE).write_bytes(b"not safetensors")
    with pytest.raises(store.CheckpointError, match="train-classifier"):
        load_classifier(tmp_path, "mnist")
    assert store.scan(tmp_path) == ([], [])  # a broken classifier is not a broken VAE


def test_cli_trains_once_then_reuses(tmp_path, fake_mnist_dir, capsys):
    flags = ["--data-dir", str(fake_mnist_dir), "--checkpoint-dir", str(tmp_path), "--epochs", "1",
             "--batch-size", "32", "--quiet"]
    assert main(["train-classifier", *flags]) == 0
    assert "saved to" in capsys.readouterr().err
    first = (tmp_path / classifier_name("mnist") / store.MODEL_FILE).read_bytes()
    assert main(["train-classifier", *flags]) == 0
    assert "cached, reused" in capsys.readouterr().err
    assert main(["train-classifier", "--force", "--seed", "1", *flags]) == 0
    assert "saved to" in capsys.readouterr().err
    assert (tmp_path / classifier_name("mnist") / store.MODEL_FILE).read_bytes() != first


def test_cli_refuses_bad_epochs(tmp_path, capsys):
    assert main(["train-classifier", "--epochs", "0", "--checkpoint-dir", str(tmp_path)]) == 2
    assert "--epochs" in capsys.readouterr().err


def test_shipped_classifier_is_small(shipped_root):
    weights = shipped_root / classifier_name("mnist") / store.MODEL_FILE
    assert weights.is_file(), "run `vae-explorer train-classifier` and commit checkpoints/classifier-mnist"
    assert weights.stat().st_size < 1_000_000


@pytest.mark.mnist
def test_shipped_classifier_reaches_99_percent_on_mnist_test(mnist_dir, shipped_root):
    model, meta = load_classifier(shipped_root, "mnist")
    test = load_split("mnist", train=False, data_dir=mnist_dir, download=False)
    measured = accuracy(model, test)
    assert measured >= 0.99
    assert measured == pytest.approx(meta["test_accuracy"], abs=1e-4)  # the stored figure is the real one
