"""Fault matrix rows 1-8 (broken checkpoint files), 13 (a full disk) and 20 (no checkpoint folder).

Each ends in one line that names the fix (exit status 2 from the CLI, or a visible warning in
the app) and leaves nothing lost or half-written under the checkpoint root. The matrix, with
what the user sees in each row, is in tests/README.md.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from tests.faults.conftest import (
    NAME,
    PAGES,
    edit_config,
    files_of,
    history_epochs,
    leftovers,
    mark_as_old,
    one_line,
    open_app,
    run_cli,
    train_argv,
)
from vae_core import cli, store


def problems_of(root: Path) -> dict[str, str]:
    checkpoints, problems = store.scan(root)
    assert checkpoints == []
    return {p.path.name: p.message for p in problems}


def assert_refused(capsys, root: Path, path: Path, pattern: str) -> str:
    """The broken checkpoint is skipped by scan/list with one line, and never loads."""
    assert re.search(pattern, problems_of(root)[path.name]), problems_of(root)
    with pytest.raises(store.CheckpointError, match=pattern):
        store.load_model(store.read_checkpoint(path))
    code, out, err = run_cli(capsys, "list", "--checkpoint-dir", str(root))
    assert code == 0 and "no checkpoints in" in out
    line = one_line(err)
    assert line.startswith(f"skipped {path.name}: ") and re.search(pattern, line)
    return line


# ---------------------------------------------------------------- rows 1-8: broken checkpoints


def test_row01_truncated_safetensors(capsys, root, copied):
    weights = copied / store.MODEL_FILE
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert_refused(capsys, root, copied, r"model\.safetensors is not a readable safetensors file")


def test_row02_random_bytes_named_safetensors(capsys, root, copied):
    (copied / store.MODEL_FILE).write_bytes(os.urandom(4096))
    assert_refused(capsys, root, copied, r"not a readable safetensors file.*retrain with --force")


class _LeavesMarker:
    """Unpickling this calls ``open(marker, 'w')``: the marker file proves code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_row03_pickle_renamed_to_safetensors_never_runs(capsys, root, copied, tmp_path):
    control_marker, marker = tmp_path / "control-ran", tmp_path / "payload-ran"
    control = tmp_path / "control.pt"
    torch.save({"weights": _LeavesMarker(control_marker)}, control)
    torch.load(control, weights_only=False)  # the payload is live: plain unpickling runs it
    assert control_marker.exists()

    torch.save({"weights": _LeavesMarker(marker)}, copied / store.MODEL_FILE)
    assert_refused(capsys, root, copied, r"not a readable safetensors file")
    with pytest.raises(Exception):  # noqa: B017 - whatever it says, it must not run the payload
        torch.load(copied / store.MODEL_FILE, weights_only=True)  # the only torch.load we allow
    assert not marker.exists(), "the pickle payload was executed"


def test_row04_config_not_json(capsys, root, copied):
    (copied / store.CONFIG_FILE).write_text("{ this is not json", encoding="utf-8")
    assert_refused(capsys, root, copied, r"config\.json is not valid JSON .*retrain with --force")


def test_row05_config_missing_a_key(capsys, root, copied):
    edit_config(copied, lambda c: c["model"].pop("hidden_dim"))
    assert_refused(capsys, root, copied, r"ModelConfig is missing hidden_dim; retrain with --force")


def test_row06_latent_size_does_not_match_weights(capsys, root, copied):
    edit_config(copied, lambda c: c["model"].update(latent_dim=3))
    shapes = r"weight has shape \(\d+, \d+\) but config\.json \(latent 3\) needs \(\d+, \d+\)"
    assert_refused(capsys, root, copied, shapes)


def test_row07_weights_with_nan(capsys, root, copied, fake_mnist_dir, tmp_path):
    """Listing reads the safetensors header only (row 30), so NaN weights are refused when they are loaded."""
    tensors = load_file(copied / store.MODEL_FILE)
    first = sorted(tensors)[0]
    tensors[first].view(-1)[0] = float("nan")
    save_file(tensors, copied / store.MODEL_FILE)
    assert [c.name for c in store.scan(root)[0]] == [copied.name]
    with pytest.raises(store.CheckpointError, match=rf"{first} contains NaN or inf values"):
        store.load_model(store.read_checkpoint(copied))
    code, _, err = run_cli(capsys, "export", "csv", "--model", copied.name, "--checkpoint-dir", str(root),
                           "--data-dir", str(fake_mnist_dir), "--output", str(tmp_path / "out.csv"))
    assert code == cli.EXIT_USAGE
    assert re.search(rf"{first} contains NaN or inf values: retrain with --force", one_line(err))


@pytest.mark.parametrize("version", [store.FORMAT_VERSION + 1, "banana", None])
def test_row08_unknown_or_newer_format_version(capsys, root, copied, version):
    edit_config(copied, lambda c: c.update(format_version=version))
    assert_refused(capsys, root, copied,
                   rf"format version {version!r}, this vae_core reads versions 1 to {store.FORMAT_VERSION}: upgrade")


def test_broken_checkpoint_is_retrained_over_by_train(capsys, root, fake_mnist_dir):
    """`train` treats an unusable cached directory as absent and replaces it atomically."""
    broken = root / NAME
    broken.mkdir()
    (broken / store.MODEL_FILE).write_bytes(os.urandom(100))
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0, err
    assert history_epochs(root) == [1, 2, 3] and leftovers(root) == []


def test_rows01_08_broken_checkpoints_are_a_visible_warning_in_the_app(monkeypatch, good_checkpoint, root, empty_data):
    shutil.copytree(good_checkpoint, root / good_checkpoint.name)
    breakers = {
        "truncated": lambda p: (p / store.MODEL_FILE).write_bytes((p / store.MODEL_FILE).read_bytes()[:100]),
        "random-bytes": lambda p: (p / store.MODEL_FILE).write_bytes(os.urandom(500)),
        "pickle": lambda p: torch.save({"w": torch.zeros(2)}, p / store.MODEL_FILE),
        "config-not-json": lambda p: (p / store.CONFIG_FILE).write_text("{oops"),
        "config-missing-key": lambda p: edit_config(p, lambda c: c["train"].pop("lr")),
        "latent-mismatch": lambda p: edit_config(p, lambda c: c["model"].update(latent_dim=7)),
        "newer-format": lambda p: edit_config(p, lambda c: c.update(format_version=99)),
    }
    for name, damage in breakers.items():
        damage(Path(shutil.copytree(good_checkpoint, root / name)))
    app = open_app(monkeypatch, root, empty_data)
    assert len(app.dataframe[0].value) == 1  # the good one is listed and usable
    assert any(f"{len(breakers)} folder(s)" in w.value for w in app.sidebar.warning)
    shown = "\n".join(w.value for w in app.main.warning)
    for name in breakers:
        assert f"`{name}`: " in shown, name
    app.switch_page("explorer/page.py").run()
    assert not app.exception and app.image  # the usable model still decodes


# ---------------------------------------------------------------- row 13: full disk


def test_row13_full_disk_during_save(capsys, root, fake_mnist_dir, monkeypatch):
    assert run_cli(capsys, *train_argv(fake_mnist_dir, root))[0] == 0
    old = mark_as_old(root)

    def disk_fills_up(tensors, path):
        if Path(path).name != store.MODEL_FILE:
            return save_file(tensors, path)
        Path(path).write_bytes(b"\0" * 1000)  # half a file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store, "save_file", disk_fills_up)
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root, "--force"))
    assert code == cli.EXIT_USAGE
    assert one_line(err) == (f"vae-explorer train: error: no space left on the device while saving "
                             f"{root / NAME}: free some space and run again")
    assert files_of(root) == old
    assert leftovers(root) == []


# ---------------------------------------------------------------- row 20: no checkpoint folder


@pytest.mark.parametrize("state", ["empty", "missing"])
def test_row20_dashboard_with_no_checkpoint_dir(monkeypatch, tmp_path, empty_data, state):
    root = tmp_path / "checkpoints"
    if state == "empty":
        root.mkdir()
    app = open_app(monkeypatch, root, empty_data)
    assert any(f"No checkpoints in `{root}`" in w.value for w in app.sidebar.warning)
    for page in PAGES:
        app.switch_page(f"{page}/page.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
        notes = [i.value for i in app.info]
        assert any(f"There are no trained models in `{root}` yet" in n and "vae-explorer train" in n
                   for n in notes), (page, notes)
    assert root.exists() == (state == "empty")  # the app creates nothing
