"""`vae-explorer import`: a VAE trained by the pytorch/examples loop itself becomes a listed, explorable checkpoint;
anything else is one line and nothing written.

The tutorial's model, loss and loop are in ``tests/pytorch_examples_vae.py`` (pytorch/examples vae/main.py, BSD-3).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch.nn import functional as F

from tests import pytorch_examples_vae as tutorial
from vae_core import importing, store
from vae_core.cli import main
from vae_core.evaluate import load_metrics
from vae_core.projections import load_projections

TRAIN_IMAGES = 3000  # one epoch of the tutorial's loop on these: a few seconds on two cores
LATENT = 20
IW_SAMPLES = 10  # evaluate's importance samples per test image: its recon is their mean
ERR_PREFIX = "vae-explorer import: error: "


@pytest.fixture(scope="module")
def trained(mnist_dir) -> tutorial.VAE:
    """The tutorial's VAE after one epoch of its own training loop on real MNIST."""
    return tutorial.train_on_mnist(mnist_dir, TRAIN_IMAGES, latent=LATENT)


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "checkpoints"


def with_classifier(root: Path, shipped_root: Path) -> Path:
    """``root`` holding the shipped MNIST classifier, which `evaluate`'s metrics need."""
    shutil.copytree(shipped_root / "classifier-mnist", root / "classifier-mnist")
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def only_import(root: Path) -> store.Checkpoint:
    checkpoints, problems = store.scan(root)
    assert problems == [] and len(checkpoints) == 1
    return checkpoints[0]


def assert_decodes_like_the_tutorial(checkpoint: store.Checkpoint, model: tutorial.VAE) -> None:
    ours = store.load_model(checkpoint)
    z = torch.randn(64, model.fc21.out_features, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(torch.sigmoid(ours.decode(z)), model.decode(z), rtol=0, atol=1e-6)


def assert_imported_from(checkpoint: store.Checkpoint, file: Path) -> None:
    assert checkpoint.imported and checkpoint.history == [] and checkpoint.final is None
    assert checkpoint.source["kind"] == "import" and checkpoint.source["format"] == "pytorch-examples"
    assert checkpoint.source["file"] == file.name and checkpoint.source["sha256"] == sha256(file)
    files = {p.name for p in checkpoint.path.iterdir()} - {"metrics.json"}  # metrics need the classifier
    assert files == {"config.json", "model.safetensors", "projections.npz"}  # no history.json
    assert load_projections(checkpoint)["pca"].shape == (10_000, 2)


@torch.no_grad()
def plain_negative_elbo(model: tutorial.VAE, data_dir: Path, k: int) -> float:
    """The negative ELBO per test image as evaluate defines it (recon averaged over k samples z ~ q(z|x),
    analytic KL), computed with the tutorial's own model and loss terms on torchvision's MNIST test set."""
    from torchvision import datasets

    images = datasets.MNIST(str(data_dir), train=False, download=False).data.reshape(-1, 784).float() / 255
    generator, total = torch.Generator().manual_seed(11), 0.0
    for x in images.split(1000):
        mu, logvar = model.encode(x)
        recon = sum(F.binary_cross_entropy(model.decode(mu + torch.randn(mu.shape, generator=generator)
                                                        * torch.exp(0.5 * logvar)), x, reduction="none").sum(1)
                    for _ in range(k)) / k
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)
        total += (recon + kld).double().sum().item()
    return total / len(images)


@pytest.mark.mnist
@pytest.mark.slow
def test_a_state_dict_from_the_tutorial_loop_is_listed_with_its_test_loss_and_maps(
        trained, mnist_dir, root, shipped_root, tmp_path, capsys):
    file = tmp_path / "vae.pt"
    torch.save(trained.state_dict(), file)
    with_classifier(root, shipped_root)
    assert main(["import", str(file), "--checkpoint-dir", str(root), "--data-dir", str(mnist_dir), "--maps", "later",
                 "--iw-samples", str(IW_SAMPLES), "--samples", "1000", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    checkpoint = only_import(root)
    assert checkpoint.name == f"mnist-z{LATENT}-h400-imported-{sha256(file)[:8]}"
    assert_imported_from(checkpoint, file)
    assert_decodes_like_the_tutorial(checkpoint, trained)
    metrics = load_metrics(checkpoint)
    assert metrics["settings"]["iw_samples"] == IW_SAMPLES
    assert metrics["elbo"]["loss"] == pytest.approx(plain_negative_elbo(trained, mnist_dir, IW_SAMPLES), abs=0.2)
    for step in ("read vae.pt", "wrote", "PCA map in", "test loss", "t-SNE and UMAP left for later"):
        assert step in err


@pytest.mark.mnist
def test_the_same_from_safetensors_without_a_classifier_says_what_evaluate_needs(
        trained, mnist_dir, root, tmp_path, capsys):
    file = tmp_path / "vae.safetensors"
    save_file(trained.state_dict(), file)
    assert main(["import", str(file), "--name", "tutorial-vae", "--checkpoint-dir", str(root),
                 "--data-dir", str(mnist_dir), "--maps", "later", "--device", "cpu"]) == 0
    assert "no test loss or metrics yet: `evaluate` needs classifier-mnist" in capsys.readouterr().err
    checkpoint = only_import(root)
    assert checkpoint.name == "tutorial-vae"
    assert_imported_from(checkpoint, file)
    assert_decodes_like_the_tutorial(checkpoint, trained)
    assert main(["list", "--json", "--checkpoint-dir", str(root)]) == 0
    [row] = json.loads(capsys.readouterr().out)["checkpoints"]
    assert row["imported"] is True and row["epochs"] is None and row["test_loss"] is None


# --- without MNIST: a small tutorial VAE, no data, and every refusal ------------------------------------------

def small_state_dict() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return tutorial.VAE(hidden=16, latent=2).state_dict()


def test_without_the_data_set_the_checkpoint_is_written_and_one_line_says_what_is_missing(
        empty_data, root, tmp_path, capsys):
    file = tmp_path / "small.pt"
    torch.save(small_state_dict(), file)
    assert main(["import", str(file), "--checkpoint-dir", str(root), "--data-dir", str(empty_data)]) == 0
    [missing] = [line for line in capsys.readouterr().err.splitlines() if "need the data set" in line]
    assert "VAE_DATA_DIR" in missing
    checkpoint = only_import(root)
    assert checkpoint.imported and checkpoint.model_config.latent_dim == 2 and checkpoint.model_config.hidden_dim == 16
    assert not (checkpoint.path / "projections.npz").exists()


def refused(capsys, root: Path, *argv: str) -> str:
    """Run `import` expecting a refusal: exit 2, one line on stderr, nothing in the checkpoint folder."""
    before = sorted(p.name for p in root.iterdir()) if root.exists() else []
    assert main(["import", *argv, "--checkpoint-dir", str(root), "--maps", "none"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERR_PREFIX), lines
    assert (sorted(p.name for p in root.iterdir()) if root.exists() else []) == before
    return lines[0].removeprefix(ERR_PREFIX)


class RunsCodeOnLoad:
    """Unpickling this calls open(marker, "w"): the marker file appears only if the pickle's code runs."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_the_hostile_pickle_is_live(tmp_path):
    """The control: plain pickle runs this payload, so the refusals below are refusals of real code."""
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(RunsCodeOnLoad(control))).close()
    assert control.exists()


@pytest.mark.parametrize("save", [torch.save, lambda obj, path: path.write_bytes(pickle.dumps(obj))],
                         ids=["torch.save", "pickle.dumps"])
def test_a_pickle_that_would_run_code_never_runs(save, root, tmp_path, capsys):
    marker, file = tmp_path / "marker", tmp_path / "evil.pt"
    save({**small_state_dict(), "fc1.bias": RunsCodeOnLoad(marker)}, file)
    message = refused(capsys, root, str(file))
    assert str(file) in message and not marker.exists()
    assert "not loaded" in message or "not a file torch.save wrote" in message


def test_a_hostile_pickle_is_one_line_from_a_real_process(root, tmp_path):
    marker, file = tmp_path / "marker", tmp_path / "evil.pt"
    torch.save({"fc1.weight": RunsCodeOnLoad(marker)}, file)
    done = subprocess.run([sys.executable, "-m", "vae_core", "import", str(file), "--checkpoint-dir", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and not marker.exists() and not root.exists()
    [line] = done.stderr.strip().splitlines()  # no warning, no traceback
    assert re.fullmatch(rf"{re.escape(ERR_PREFIX + str(file))} holds a Python object \((io|builtins)\.open\) that "
                        r"could run code when loaded, so it was not loaded: save model.state_dict\(\), not the model",
                        line), line


def save_truncated(state: dict, path: Path) -> None:
    full = path.with_name("full" + path.suffix)
    (torch.save if path.suffix == ".pt" else save_file)(state, full)
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])


def with_nan(state: dict) -> dict:
    state["fc4.bias"][5] = float("nan")
    return state


def without(state: dict, key: str) -> dict:
    del state[key]
    return state


@pytest.mark.parametrize("suffix, build, expected", [
    (".pt", lambda s, p: torch.save(tutorial.VAE(hidden=16, latent=2), p), "save model.state_dict(), not the model"),
    (".pt", save_truncated, "is not a readable torch.save file"),
    (".safetensors", save_truncated, "is not a readable safetensors file"),
    (".pt", lambda s, p: torch.save(list(s.values()), p), "holds a list, not a state_dict"),
    (".pt", lambda s, p: torch.save(without(s, "fc22.bias"), p), "(missing fc22.bias): expected fc1.weight [H, 784]"),
    (".safetensors", lambda s, p: save_file(without(s, "fc3.weight"), p), "(missing fc3.weight): expected"),
    (".pt", lambda s, p: torch.save({**s, "fc5.weight": torch.ones(1)}, p), "(unexpected fc5.weight): expected"),
    (".pt", lambda s, p: torch.save({"model": s, "epoch": 3}, p), "unexpected epoch, model"),
    (".pt", lambda s, p: torch.save({**s, "fc3.weight": torch.ones(16, 3)}, p),
     "fc3.weight has shape (16, 3) but fc1 and fc21 give H = 16 and Z = 2, so it needs (16, 2)"),
    (".safetensors", lambda s, p: save_file({**s, "fc4.weight": torch.ones(784, 15)}, p),
     "fc4.weight has shape (784, 15)"),
    (".pt", lambda s, p: torch.save({**s, "fc1.weight": torch.ones(16, 100)}, p),
     "fc1.weight has shape (16, 100) and fc21.weight (2, 16); expected fc1.weight [H, 784]"),
    (".pt", lambda s, p: torch.save(with_nan(s), p), "fc4.bias holds NaN or inf values"),
    (".safetensors", lambda s, p: save_file(with_nan(s), p), "fc4.bias holds NaN or inf values"),
    (".pt", lambda s, p: torch.save({**s, "fc1.bias": torch.zeros(16, dtype=torch.int64)}, p),
     "fc1.bias is torch.int64, not a floating-point tensor"),
    (".pt", lambda s, p: torch.save({**s, "fc1.bias": 3}, p), "fc1.bias is not a tensor but int"),
    (".npz", lambda s, p: p.write_bytes(b"PK"), "is not a .pt, .pth or .safetensors file"),
], ids=["whole-module", "truncated-pt", "truncated-safetensors", "not-a-dict", "missing-key",
        "missing-key-safetensors", "extra-key", "training-checkpoint-dict", "wrong-shape", "wrong-shape-safetensors",
        "not-784-pixels", "nan", "nan-safetensors", "integer-tensor", "not-a-tensor", "unknown-suffix"])
def test_a_file_that_is_not_the_tutorials_state_dict_is_one_line(suffix, build, expected, root, tmp_path, capsys):
    file = tmp_path / f"model{suffix}"
    build(small_state_dict(), file)
    message = refused(capsys, root, str(file))
    assert message.startswith(str(file)) and expected in message


def test_a_file_over_the_size_bound_is_refused_before_it_is_read(root, tmp_path, capsys, monkeypatch):
    file = tmp_path / "small.pt"
    torch.save(small_state_dict(), file)
    monkeypatch.setattr(importing, "MAX_IMPORT_BYTES", 1000)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("read a file over the bound"))
    assert "bytes, more than the 1,000 that the largest VAE" in refused(capsys, root, str(file))


def test_sizes_outside_the_bounds_are_refused(root, tmp_path, capsys, monkeypatch):
    file = tmp_path / "small.safetensors"
    save_file(small_state_dict(), file)
    monkeypatch.setattr(importing, "MAX_LATENT_DIM", 1)
    assert "its latent size Z is 2, outside the 1 to 1 this explorer explores" in refused(capsys, root, str(file))


def test_an_existing_name_needs_force(root, tmp_path, capsys):
    file = tmp_path / "small.pt"
    torch.save(small_state_dict(), file)
    argv = ["import", str(file), "--name", "mine", "--checkpoint-dir", str(root), "--maps", "none"]
    assert main(argv) == 0
    config = (root / "mine" / "config.json").read_bytes()
    capsys.readouterr()
    assert refused(capsys, root, str(file), "--name", "mine") == (
        f"{root.resolve() / 'mine'} already exists: pass --force to replace it, or another --name")
    assert (root / "mine" / "config.json").read_bytes() == config
    assert main([*argv, "--force"]) == 0
    assert only_import(root).name == "mine"


@pytest.mark.parametrize("name, expected", [
    ("mnist-z2-h16-e12-b128-lr0.001-s0", "is named like a model `vae-explorer train` makes"),
    ("../outside", "is not a checkpoint name"),
])
def test_names_that_would_be_mistaken_or_leave_the_root_are_refused(name, expected, root, tmp_path, capsys):
    file = tmp_path / "small.pt"
    torch.save(small_state_dict(), file)
    assert expected in refused(capsys, root, str(file), "--name", name, "--force")


def test_the_classifier_folder_is_never_replaced(root, shipped_root, tmp_path, capsys):
    file = tmp_path / "small.pt"
    torch.save(small_state_dict(), file)
    with_classifier(root, shipped_root)
    message = refused(capsys, root, str(file), "--name", "classifier-mnist", "--force")
    assert "holds the classifier that `evaluate` uses" in message


@pytest.mark.parametrize("source", [{"kind": "import"}, {"kind": "trained", "format": "x", "file": "x", "sha256": "x",
                                                         "imported": "x"}, "import", 3])
def test_a_damaged_import_record_is_reported_and_skipped(source, root, tmp_path, capsys):
    file = tmp_path / "small.pt"
    torch.save(small_state_dict(), file)
    assert main(["import", str(file), "--name", "mine", "--checkpoint-dir", str(root), "--maps", "none"]) == 0
    config = json.loads((root / "mine" / "config.json").read_text())
    (root / "mine" / "config.json").write_text(json.dumps({**config, "source": source}))
    checkpoints, [problem] = store.scan(root)
    assert checkpoints == [] and "source must be null or an import record" in problem.message


def test_the_server_takes_the_largest_state_dict_the_import_takes():
    """Streamlit's server caps every upload at server.maxUploadSize (MiB); the import's own bound must fit under it."""
    import math
    import tomllib

    from vae_core.importing import MAX_IMPORT_BYTES

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == math.ceil(MAX_IMPORT_BYTES / (1 << 20))
