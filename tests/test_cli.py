import json
import subprocess
import sys

from vae_core import commands, store
from vae_core.cli import main

TINY_FLAGS = ["--hidden-dim", "16", "--epochs", "1", "--batch-size", "32", "--quiet"]


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae_core", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_train_then_reuse_from_cache(tmp_path, fake_mnist_dir, monkeypatch, capsys):
    flags = ["--data-dir", str(fake_mnist_dir), "--checkpoint-dir", str(tmp_path / "ck"), *TINY_FLAGS]
    assert main(["train", "--latent-dims", "2", "3", *flags]) == 0
    assert "trained" in capsys.readouterr().err

    def must_not_train(*args, **kwargs):
        raise AssertionError("a cached config was trained again")

    monkeypatch.setattr(commands, "train_vae", must_not_train)
    assert main(["train", "--latent-dims", "2", "3", *flags]) == 0
    err = capsys.readouterr().err
    assert err.count("cached, reused") == 2
    assert main(["list", "--json", "--checkpoint-dir", str(tmp_path / "ck")]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [row["latent_dim"] for row in listing["checkpoints"]] == [2, 3]
    assert listing["problems"] == []


def test_force_retrains(tmp_path, fake_mnist_dir, capsys):
    flags = ["--data-dir", str(fake_mnist_dir), "--checkpoint-dir", str(tmp_path), *TINY_FLAGS,
             "--latent-dims", "2", "--no-projections"]
    assert main(["train", *flags]) == 0
    assert main(["train", "--force", *flags]) == 0
    assert capsys.readouterr().err.count("trained, test loss") == 2
    assert [c.name for c in store.scan(tmp_path)[0]] == ["mnist-z2-h16-e1-b32-lr0.001-s0"]


def test_list_reports_a_corrupt_checkpoint_without_a_traceback(tmp_path):
    broken = tmp_path / "mnist-z2-h400-e12-b128-lr0.001-s0"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"garbage")
    result = run_cli("list", "--checkpoint-dir", str(tmp_path))
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "skipped mnist-z2-h400-e12-b128-lr0.001-s0" in result.stderr


def test_invalid_value_exits_2_with_one_line_from_a_real_process(tmp_path, fake_mnist_dir):
    """The process exit path; every invalid flag is checked in process by test_faults row 16."""
    root = tmp_path / "ck"
    result = run_cli("train", "--data-dir", str(fake_mnist_dir), "--checkpoint-dir", str(root),
                     "--quiet", "--latent-dims", "0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "latent size must be a positive integer" in lines[0], result.stderr
    assert store.scan(root) == ([], [])
    assert not list(root.glob(".tmp-*")) and not list(root.glob(".resume-*"))


def test_missing_dataset_names_the_directory_and_the_fix(tmp_path, monkeypatch):
    empty = tmp_path / "nowhere"
    empty.mkdir()
    result = run_cli("train", "--data-dir", str(empty), "--checkpoint-dir", str(tmp_path / "ck"),
                     "--latent-dims", "2", "--quiet")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(empty / "MNIST" / "raw") in lines[0] and "VAE_DATA_DIR" in lines[0]
    assert "vae-explorer download" in lines[0]
