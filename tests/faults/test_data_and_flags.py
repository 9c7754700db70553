"""Fault matrix rows 14-16 and 18: missing or corrupt data sets, invalid flags, a loss that turns NaN.

Each ends in one line naming the fix and exit status 2, with nothing written. The matrix is in
tests/README.md.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest

from tests.conftest import write_fake_mnist
from tests.faults.conftest import (
    NAME,
    history_epochs,
    leftovers,
    one_line,
    run_cli,
    train_argv,
)
from vae_core import cli, store
from vae_core import train as train_module


@pytest.fixture
def offline(monkeypatch):
    """No network: every connection attempt fails as on an offline machine."""

    def refuse(*args, **kwargs):
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.delenv("VAE_OFFLINE", raising=False)  # these rows try the (refused) download


# ---------------------------------------------------------------- rows 14-15: data sets


def test_row14_missing_dataset_offline(capsys, root, tmp_path, offline):
    empty = tmp_path / "no-data"
    code, out, err = run_cli(capsys, *train_argv(empty, root))
    assert code == cli.EXIT_USAGE and out == ""
    line = one_line(err)
    assert line.startswith(f"vae-explorer train: error: mnist is not in {empty / 'MNIST' / 'raw'} "
                           "and could not be downloaded (<urlopen error [Errno 101] Network is unreachable>)")
    assert "set VAE_DATA_DIR or --data-dir" in line and "vae-explorer download" in line
    assert [p for p in empty.rglob("*") if p.is_file()] == []  # no half-downloaded file
    assert list(root.iterdir()) == [root / f".lock-{NAME}"]


def _break_magic(path: Path) -> None:
    path.write_bytes(b"\x12\x34\x56\x78" + path.read_bytes()[4:])


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("damage", [_break_magic, _truncate], ids=["wrong-magic", "truncated"])
@pytest.mark.parametrize("file", ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"])
def test_row15_corrupt_dataset_file(capsys, root, tmp_path, offline, damage, file):
    data = write_fake_mnist(tmp_path / "data")
    damage(data / "MNIST" / "raw" / file)
    code, _, err = run_cli(capsys, *train_argv(data, root))
    assert code == cli.EXIT_USAGE
    line = one_line(err)
    assert line.startswith(f"vae-explorer train: error: mnist files in {data / 'MNIST' / 'raw'} are corrupt (")
    if damage is _break_magic:
        assert "(AssertionError: bad header (wrong magic number or size))" in line
    assert line.endswith("delete that folder and download it again")
    assert not (root / NAME).exists() and leftovers(root) == []


# ---------------------------------------------------------------- row 16: flags


@pytest.mark.parametrize(("flags", "message"), [
    (["--latent-dims", "0"], "latent size must be a positive integer, got 0: pass --latent-dims 1 or more"),
    (["--latent-dims", "-3"], "latent size must be a positive integer, got -3"),
    (["--latent-dims", "two"], "argument --latent-dims: invalid int value: 'two'"),
    (["--epochs", "0"], "epochs must be a positive integer, got 0: pass --epochs 1 or more"),
    (["--lr", "-0.1"], "learning rate must be a positive number, got -0.1: try --lr 0.001"),
    (["--lr", "nan"], "learning rate must be a positive number, got nan"),
    (["--lr", "fast"], "argument --lr: invalid float value: 'fast'"),
    (["--batch-size", "100000"], "batch size 100000 is larger than the 256 training images"),
    (["--batch-size", "0"], "batch size must be a positive integer, got 0"),
    (["--dataset", "cifar"], "unknown dataset 'cifar': choose one of mnist, fashion-mnist"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_row16_invalid_cli_values(capsys, root, fake_mnist_dir, flags, message):
    argv = [a for a in train_argv(fake_mnist_dir, root) if a != "--quiet"]  # progress bars must not add lines
    code, out, err = run_cli(capsys, *argv, *flags)
    assert code == cli.EXIT_USAGE
    line = one_line(err)
    assert line.startswith("vae-explorer") and message in line
    assert out == ""
    assert [p for p in root.iterdir() if not p.name.startswith(".lock-")] == []


# ---------------------------------------------------------------- row 18: NaN mid-training, resuming


@pytest.fixture
def nan_from_epoch_2(monkeypatch):
    """The training loss turns NaN at the first step after epoch 1's evaluation."""
    real_step, real_evaluate = train_module.negative_elbo_backward, train_module.evaluate_elbo
    evaluated = []

    def evaluate(*args, **kwargs):
        evaluated.append(True)
        return real_evaluate(*args, **kwargs)

    def poisoned_step(*args):
        loss = real_step(*args)
        return loss._replace(recon=loss.recon * float("nan")) if evaluated else loss

    monkeypatch.setattr(train_module, "evaluate_elbo", evaluate)
    monkeypatch.setattr(train_module, "negative_elbo_backward", poisoned_step)
    return monkeypatch


def test_row18_nan_loss_mid_training_keeps_last_good_epoch(capsys, root, fake_mnist_dir, nan_from_epoch_2):
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == cli.EXIT_USAGE
    assert one_line(err) == (
        f"vae-explorer train: error: {NAME}: loss became nan at epoch 2, step 1: lower --lr or check the data; "
        "epoch 1 is kept as a resume point, run the same command to continue")
    assert not (root / NAME).exists() and leftovers(root) == []
    assert store.resume_epochs(root, NAME) == 1

    nan_from_epoch_2.undo()  # the cause is gone (data fixed): the same command continues
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0 and f"{NAME}: resuming after epoch 1" in err
    assert history_epochs(root) == [1, 2, 3]
    assert store.load_resume_point(root, NAME) is None
