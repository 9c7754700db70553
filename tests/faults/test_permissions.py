"""Fault matrix row 12: a checkpoint folder this user may not write or read.

Directory modes are checked by the kernel in a child process (as root: root without its
capabilities, since root ignores mode bits only through them). The matrix is in tests/README.md.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.conftest import missing_prerequisite, write_fake_mnist, write_tiny_checkpoint
from tests.faults.conftest import (
    NAME,
    REPO,
    WAIT_SECONDS,
    child_env,
    files_of,
    leftovers,
    mark_as_old,
    one_line,
    run_cli,
    train_argv,
)
from vae_core import cli, store


@functools.cache
def _unprivileged_prefix() -> list[str] | None:
    """How to run a command so that directory permissions apply to it: as ourselves unless root.

    root ignores mode bits only through its capabilities (CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH), so as root the command runs as root with every capability dropped
    (setpriv). Mode bits then stop it like any user, while it still reaches what root owns
    wherever it lies: a checkout and its .venv in a folder private to root (a clone in /root,
    or in a `mktemp -d` folder), which another user such as 'nobody' could not enter.
    None when that is impossible (root without setpriv, or not allowed to drop capabilities).
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import os; os.listdir('/proc/self')"],
                           capture_output=True, timeout=WAIT_SECONDS)
    return prefix if probe.returncode == 0 else None


@pytest.fixture
def closed_dirs():
    """Make folders unreadable (mode 000) for a test; their modes are restored afterwards for cleanup."""
    closed: list[Path] = []

    def close(path: Path) -> Path:
        path.chmod(0o000)
        closed.append(path)
        return path

    yield close
    for path in closed:
        path.chmod(0o755)


def test_row12_unwritable_checkpoint_dir(good_checkpoint, tmp_path, monkeypatch, capsys):
    data = write_fake_mnist(tmp_path / "data")
    root = tmp_path / "checkpoints"
    shutil.copytree(good_checkpoint, root / good_checkpoint.name)
    before = {p.name: p.read_bytes() for p in (root / good_checkpoint.name).iterdir()}
    root.chmod(0o555)
    argv, prefix = train_argv(data, root), _unprivileged_prefix()
    if prefix is None:  # root that cannot drop capabilities: mode bits cannot stop us, so give the kernel's answer
        monkeypatch.setattr(store, "lock_for", lambda *a: (_ for _ in ()).throw(
            PermissionError(errno.EACCES, "Permission denied", str(root / f".lock-{NAME}"))))
        code, _, err = run_cli(capsys, *argv)
    else:
        done = subprocess.run([*prefix, sys.executable, "-m", "vae_core", *argv], cwd=REPO, env=child_env(),
                              capture_output=True, text=True, timeout=WAIT_SECONDS)
        code, err = done.returncode, done.stderr
    root.chmod(0o755)
    assert code == cli.EXIT_USAGE, err
    assert one_line(err) == (f"vae-explorer train: error: cannot write to {root} (permission denied): "
                             "pass a writable --checkpoint-dir or set VAE_CHECKPOINT_DIR")
    assert sorted(p.name for p in root.iterdir()) == [good_checkpoint.name]
    assert {p.name: p.read_bytes() for p in (root / good_checkpoint.name).iterdir()} == before


def test_row12_unreadable_checkpoint_dir_or_folder(good_checkpoint, tmp_path, closed_dirs):
    """A root this user may not read is one error line; an unreadable folder in it is skipped."""
    prefix = _unprivileged_prefix()
    if prefix is None:
        missing_prerequisite("setpriv and the right to drop root's capabilities, so that directory modes apply")
    closed, root = tmp_path / "closed", tmp_path / "checkpoints"
    closed.mkdir()
    closed_dirs(closed)
    shutil.copytree(good_checkpoint, root / good_checkpoint.name)
    shutil.copytree(good_checkpoint, root / "private" / "inner")
    closed_dirs(root / "private")

    def list_as_user(checkpoint_dir: Path) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, sys.executable, "-m", "vae_core", "list", "--checkpoint-dir",
                               str(checkpoint_dir)], cwd=REPO, env=child_env(), capture_output=True, text=True,
                              timeout=WAIT_SECONDS)

    done = list_as_user(closed)
    assert done.returncode == cli.EXIT_USAGE and one_line(done.stderr) == (
        f"vae-explorer list: error: cannot read the checkpoint directory {closed} (Permission denied): "
        "fix its permissions or point --checkpoint-dir / VAE_CHECKPOINT_DIR elsewhere"), done.stderr
    done = list_as_user(root)
    assert done.returncode == 0 and good_checkpoint.name in done.stdout, done.stderr
    assert one_line(done.stderr) == (f"skipped private: {root / 'private'} cannot be read (Permission denied): "
                                     "check its permissions")


def test_row12_permission_lost_during_save_keeps_old_checkpoint(capsys, root, fake_mnist_dir, monkeypatch):
    assert run_cli(capsys, *train_argv(fake_mnist_dir, root))[0] == 0
    old = mark_as_old(root)

    def denied(tensors, path):
        if Path(path).name == store.MODEL_FILE:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return save_file(tensors, path)

    monkeypatch.setattr(store, "save_file", denied)
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root, "--force"))
    assert code == cli.EXIT_USAGE
    assert one_line(err).endswith(f"cannot write to {root} (permission denied): "
                                  "pass a writable --checkpoint-dir or set VAE_CHECKPOINT_DIR")
    assert files_of(root) == old and leftovers(root) == []


def test_saved_checkpoint_files_follow_the_umask(root, tiny_data):
    """Weights are as readable as the JSON beside them (safetensors alone would make them 0600)."""
    checkpoint = write_tiny_checkpoint(root, *tiny_data, with_projections=False)
    expected = 0o666 & ~store._umask()  # 0644 under the usual umask 022
    modes = {p.name: p.stat().st_mode & 0o777 for p in checkpoint.path.iterdir()}
    assert modes == {store.MODEL_FILE: expected, store.CONFIG_FILE: expected, store.HISTORY_FILE: expected}
    auxiliary = store.save_auxiliary(root, "digit-classifier", "classifier", {"w": torch.zeros(3)}, {})
    assert (auxiliary / store.MODEL_FILE).stat().st_mode & 0o777 == expected
