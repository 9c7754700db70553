import json
import re
import subprocess
import sys

import pytest

from vae_core import runs, store
from vae_core.cli import main
from vae_core.projections import load_projections

TINY_FLAGS = ["--hidden-dim", "16", "--epochs", "1", "--batch-size", "32", "--quiet"]


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae_core", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_train_then_reuse_from_cache(tmp_path, fake_mnist_dir, monkeypatch, capsys):
    flags = ["--data-dir", str(fake_mnist_dir), "--checkpoint-dir", str(tmp_path / "ck"), *TINY_FLAGS]
    assert main(["train", "--latent-dims", "2", "3", *flags]) == 0
    err = capsys.readouterr().err
    assert "trained" in err and "minute" not in err  # no guess at t-SNE's time: the time it took
    assert len(re.findall(r"^mnist-z[23]-\S+: t-SNE of 200 test means: \d+\.\d s$", err, re.MULTILINE)) == 2, err
    # then the training digits are placed on those maps, as `project` places them
    assert len(re.findall(r"^mnist-z[23]-\S+: 256 training digits placed on its maps", err, re.MULTILINE)) == 2, err

    def must_not_train(*args, **kwargs):
        raise AssertionError("a cached config was trained again")

    monkeypatch.setattr(runs, "train_vae", must_not_train)
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


def test_project_reports_the_measured_tsne_time_and_help_names_what_it_costs(tmp_path, fake_mnist_dir, capsys):
    flags = ["--data-dir", str(fake_mnist_dir), "--checkpoint-dir", str(tmp_path)]
    assert main(["train", "--latent-dims", "2", "--no-projections", *TINY_FLAGS, *flags]) == 0
    checkpoint = store.scan(tmp_path)[0][0]
    capsys.readouterr()
    assert main(["project", "--tsne-points", "50", *flags]) == 0
    err = capsys.readouterr().err
    assert f"{checkpoint.name}: PCA of 200 test means saved: the model is explorable" in err
    assert (f"{checkpoint.name}: t-SNE of 50 points, perplexity 30, 500 iterations (Barnes-Hut, angle 0.8) in a "
            "second process; UMAP of all 200 test means beside it") in err
    assert re.search(rf"^{checkpoint.name}: t-SNE of 50 test means: \d+\.\d s$", err, re.MULTILINE), err
    assert len(load_projections(checkpoint)["tsne_index"]) == 50
    for again in ([], ["--tsne-points", "50"]):  # cached (with that N when one is given): nothing to do
        assert main(["project", *again, *flags]) == 0
        assert capsys.readouterr().err == ""

    with pytest.raises(SystemExit):
        main(["project", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "t-SNE's cost is set by: 5,000 points, perplexity 30, 500 iterations (Barnes-Hut, angle 0.8)" in text
    assert "--tsne-points N test means that t-SNE maps (default 5000" in text


def test_list_reports_a_corrupt_checkpoint_without_a_traceback(tmp_path):
    broken = tmp_path / "mnist-z2-h400-e12-b128-lr0.001-s0"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"garbage")
    result = run_cli("list", "--checkpoint-dir", str(tmp_path))
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "skipped mnist-z2-h400-e12-b128-lr0.001-s0" in result.stderr


def test_invalid_value_exits_2_with_one_line_from_a_real_process(tmp_path, fake_mnist_dir):
    """The process exit path; every invalid flag is checked in process by fault matrix row 16 (tests/faults)."""
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
    monkeypatch.setenv("VAE_OFFLINE", "1")  # the child must not download MNIST on a machine with internet
    result = run_cli("train", "--data-dir", str(empty), "--checkpoint-dir", str(tmp_path / "ck"),
                     "--latent-dims", "2", "--quiet")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(empty / "MNIST" / "raw") in lines[0] and "VAE_DATA_DIR" in lines[0]
    assert "vae-explorer download" in lines[0] and "downloads are off: VAE_OFFLINE is set" in lines[0]


@pytest.mark.parametrize("command", [["--help"], ["list"]])
def test_help_and_list_start_without_importing_torch(command):
    """`--help` builds its parser from vae_core.defaults; `list` checks weights with numpy and vae_core.shapes."""
    code = (f"import sys, runpy; sys.argv = ['vae-explorer', *{command!r}]\n"
            "try:\n    runpy.run_module('vae_core', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'torchvision', 'sklearn') if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert ("usage: vae-explorer" if command == ["--help"] else "test loss") in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"
