"""The fault matrix: one test per row of faults, bad input and exposure.

Every row ends in a one-line message (and exit status 2 or 130 from the CLI, or a visible
warning in the app), and leaves nothing lost or half-written under the checkpoint root.
Signals (rows 9-11) go to real `python -m vae_core` processes; tests/fault_child.py
pauses such a process at the exact moment a row needs. The app rows (17, 19, 20, and how
rows 1-8 look there) drive dashboard/app.py through Streamlit's AppTest.
"""

from __future__ import annotations

import ast
import errno
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from tests.conftest import missing_prerequisite, write_fake_mnist, write_tiny_checkpoint
from vae_core import atomic, cli, store
from vae_core import train as train_module

REPO = Path(__file__).resolve().parent.parent
CHILD = REPO / "tests" / "fault_child.py"
NAME = "mnist-z2-h16-e3-b32-lr0.001-s0"  # run name of TRAIN_FLAGS
TRAIN_FLAGS = ["--latent-dims", "2", "--hidden-dim", "16", "--epochs", "3", "--batch-size", "32",
               "--seed", "0", "--no-projections", "--quiet"]
WAIT_SECONDS = 90  # generous: two cores shared with other work


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory, tiny_data) -> Path:
    """A valid tiny checkpoint; tests copy it before breaking it."""
    return write_tiny_checkpoint(tmp_path_factory.mktemp("good"), *tiny_data, with_projections=False).path


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "checkpoints"
    path.mkdir()
    return path


@pytest.fixture
def copied(good_checkpoint, root) -> Path:
    """A fresh copy of the good checkpoint under ``root``, ready to be broken."""
    return Path(shutil.copytree(good_checkpoint, root / good_checkpoint.name))


@pytest.fixture
def offline(monkeypatch):
    """No network: every connection attempt fails as on an offline machine."""

    def refuse(*args, **kwargs):
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def one_line(text: str) -> str:
    """The single non-empty line of ``text``; fails when there are more or none."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {lines}"
    return lines[0]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``vae-explorer argv`` in this process: (exit status, stdout, stderr)."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def train_argv(data_dir: Path, root: Path, *extra: str) -> list[str]:
    return ["train", *TRAIN_FLAGS, "--data-dir", str(data_dir), "--checkpoint-dir", str(root), *extra]


def leftovers(root: Path) -> list[str]:
    """Half-written work files of interrupted saves (``.tmp-*`` / ``.old-*``), anywhere in root."""
    return sorted(p.name for p in root.rglob(".*") if p.name.startswith((atomic.TEMP_PREFIX, atomic.OLD_PREFIX)))


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


def child_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


_CHILDREN: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_orphans():
    """A failing test must not leave a paused child behind: kill what is still running."""
    yield
    while _CHILDREN:
        child = _CHILDREN.pop()
        if child.poll() is None:
            child.kill()
            child.wait()


def start_child(mode: str, ready: Path, argv: list[str], log: Path) -> subprocess.Popen:
    """tests/fault_child.py in its own process, stderr to ``log``."""
    with open(log, "wb") as handle:
        child = subprocess.Popen([sys.executable, str(CHILD), mode, str(ready), *argv], cwd=REPO,
                                 env=child_env(), stdout=subprocess.DEVNULL, stderr=handle)
    _CHILDREN.append(child)
    return child


def wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"process ended (status {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def kill_when_paused(mode: str, what: str, argv: list[str], tmp_path: Path) -> None:
    """Run a child that pauses at ``mode``, SIGKILL it there, and check it died of the signal."""
    ready = tmp_path / "ready"
    child = start_child(mode, ready, argv, tmp_path / "child.log")
    wait_for(ready.exists, what, child)
    child.send_signal(signal.SIGKILL)
    assert child.wait(WAIT_SECONDS) == -signal.SIGKILL


def mark_as_old(root: Path) -> dict[str, bytes]:
    """Tag the checkpoint of NAME (retraining gives identical weights) and return its files."""
    _edit_config(root / NAME, lambda c: c["info"].update(marker="the old checkpoint"))
    return files_of(root)


def files_of(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / NAME).iterdir()}


def history_epochs(root: Path) -> list[int]:
    return [row["epoch"] for row in store.read_checkpoint(root / NAME).history]


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


def _edit_config(path: Path, edit) -> None:
    config = json.loads((path / store.CONFIG_FILE).read_text())
    edit(config)
    (path / store.CONFIG_FILE).write_text(json.dumps(config))


def test_row05_config_missing_a_key(capsys, root, copied):
    _edit_config(copied, lambda c: c["model"].pop("hidden_dim"))
    assert_refused(capsys, root, copied, r"ModelConfig is missing hidden_dim; retrain with --force")


def test_row06_latent_size_does_not_match_weights(capsys, root, copied):
    _edit_config(copied, lambda c: c["model"].update(latent_dim=3))
    shapes = r"weight has shape \(\d+, \d+\) but config\.json \(latent 3\) needs \(\d+, \d+\)"
    assert_refused(capsys, root, copied, shapes)


def test_row07_weights_with_nan(capsys, root, copied):
    tensors = load_file(copied / store.MODEL_FILE)
    first = sorted(tensors)[0]
    tensors[first].view(-1)[0] = float("nan")
    save_file(tensors, copied / store.MODEL_FILE)
    assert_refused(capsys, root, copied, rf"{first} contains NaN or inf values")


@pytest.mark.parametrize("version", [store.FORMAT_VERSION + 1, "banana", None])
def test_row08_unknown_or_newer_format_version(capsys, root, copied, version):
    _edit_config(copied, lambda c: c.update(format_version=version))
    assert_refused(capsys, root, copied, rf"format version {version!r}, this vae_core reads version 1: upgrade")


def test_broken_checkpoint_is_retrained_over_by_train(capsys, root, fake_mnist_dir):
    """`train` treats an unusable cached directory as absent and replaces it atomically."""
    broken = root / NAME
    broken.mkdir()
    (broken / store.MODEL_FILE).write_bytes(os.urandom(100))
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0, err
    assert history_epochs(root) == [1, 2, 3] and leftovers(root) == []


# ---------------------------------------------------------------- rows 9-11: signals, rival processes


def test_row09_sigkill_during_first_save_leaves_no_checkpoint_then_recovers(capsys, root, fake_mnist_dir, tmp_path):
    kill_when_paused("pause-before-swap", "the checkpoint save", train_argv(fake_mnist_dir, root), tmp_path)
    assert any(name.startswith(f".tmp-{NAME}-") for name in leftovers(root))  # killed mid-save indeed
    assert store.scan(root) == ([], [])  # no partial checkpoint is listed, no problem either

    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0, err
    assert f"{NAME}: resuming after epoch 3" in err  # nothing trained was lost either
    assert history_epochs(root) == [1, 2, 3]
    assert leftovers(root) == [] and store.load_resume_point(root, NAME) is None


def test_row09_sigkill_between_renames_keeps_old_checkpoint(capsys, root, fake_mnist_dir, tmp_path):
    assert run_cli(capsys, *train_argv(fake_mnist_dir, root))[0] == 0
    old = mark_as_old(root)
    argv = train_argv(fake_mnist_dir, root, "--force")
    kill_when_paused("pause-mid-swap", "the rename of the old checkpoint", argv, tmp_path)
    assert any(name.startswith(f".old-{NAME}-") for name in leftovers(root))  # the worst moment
    checkpoints, problems = store.scan(root)
    assert problems == [] and checkpoints == []  # old or nothing, never a partial one

    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0, err
    assert f"{NAME}: cached, reused" in err  # the old complete checkpoint was put back
    assert files_of(root) == old
    assert leftovers(root) == []


def test_row09_sigkill_during_resume_point_save_keeps_the_previous_one(capsys, root, fake_mnist_dir, tmp_path):
    argv = train_argv(fake_mnist_dir, root)
    kill_when_paused("pause-mid-resume-swap", "the resume point save of epoch 2", argv, tmp_path)
    assert any(name.startswith(f".old-.resume-{NAME}-") for name in leftovers(root))

    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0, err
    assert f"{NAME}: resuming after epoch 1" in err  # epoch 1's state was put back, not lost
    assert history_epochs(root) == [1, 2, 3] and leftovers(root) == []


def test_row10_sigint_during_training(capsys, root, fake_mnist_dir, tmp_path):
    ready, log = tmp_path / "ready", tmp_path / "child.log"
    child = start_child("pause-in-epoch-2", ready, train_argv(fake_mnist_dir, root), log)
    wait_for(ready.exists, "epoch 2", child)
    child.send_signal(signal.SIGINT)
    assert child.wait(WAIT_SECONDS) == cli.EXIT_INTERRUPTED
    assert one_line(log.read_text()) == (
        f"{NAME}: interrupted, no partial checkpoint was written; "
        "epoch 1 is kept as a resume point, run the same command to continue")
    assert not (root / NAME).exists() and leftovers(root) == []
    assert store.resume_epochs(root, NAME) == 1

    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0 and f"{NAME}: resuming after epoch 1" in err
    assert history_epochs(root) == [1, 2, 3]


def test_row10_ctrl_c_during_save_keeps_old_checkpoint(capsys, root, fake_mnist_dir, monkeypatch):
    """Ctrl-C between the two renames of an overwrite: the old checkpoint is put back."""
    assert run_cli(capsys, *train_argv(fake_mnist_dir, root))[0] == 0
    old = mark_as_old(root)
    real_replace = os.replace

    def replace_then_interrupt(src, dst):
        real_replace(src, dst)
        if Path(dst).name.startswith(f".old-{NAME}"):
            raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", replace_then_interrupt)
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root, "--force"))
    monkeypatch.undo()
    assert code == cli.EXIT_INTERRUPTED and "interrupted, no partial checkpoint was written" in err
    assert files_of(root) == old
    assert leftovers(root) == []


def test_row11_two_train_processes_for_one_config(root, fake_mnist_dir, tmp_path):
    ready, first_log, second_log = tmp_path / "ready", tmp_path / "first.log", tmp_path / "second.log"
    argv = train_argv(fake_mnist_dir, root)
    first = start_child("wait-in-epoch-2", ready, argv, first_log)
    wait_for(ready.exists, "the first process to train", first)
    with open(second_log, "wb") as handle:
        second = subprocess.Popen([sys.executable, "-m", "vae_core", *argv], cwd=REPO, env=child_env(),
                                  stdout=subprocess.DEVNULL, stderr=handle)
    _CHILDREN.append(second)
    wait_for(lambda: "another process is training it, waiting" in second_log.read_text(),
             "the second process to wait on the lock", second)
    Path(f"{ready}.go").touch()
    assert first.wait(WAIT_SECONDS) == 0 and second.wait(WAIT_SECONDS) == 0
    assert f"{NAME}: trained, test loss" in first_log.read_text()
    assert f"{NAME}: cached, reused" in second_log.read_text()
    assert "trained, test loss" not in second_log.read_text()
    checkpoints, problems = store.scan(root)
    assert [c.name for c in checkpoints] == [NAME] and problems == []
    assert history_epochs(root) == [1, 2, 3] and leftovers(root) == []


# ---------------------------------------------------------------- rows 12-13: unwritable, full disk


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


def test_saved_checkpoint_files_follow_the_umask(root, tiny_data):
    """Weights are as readable as the JSON beside them (safetensors alone would make them 0600)."""
    checkpoint = write_tiny_checkpoint(root, *tiny_data, with_projections=False)
    expected = 0o666 & ~store._umask()  # 0644 under the usual umask 022
    modes = {p.name: p.stat().st_mode & 0o777 for p in checkpoint.path.iterdir()}
    assert modes == {store.MODEL_FILE: expected, store.CONFIG_FILE: expected, store.HISTORY_FILE: expected}
    auxiliary = store.save_auxiliary(root, "digit-classifier", "classifier", {"w": torch.zeros(3)}, {})
    assert (auxiliary / store.MODEL_FILE).stat().st_mode & 0o777 == expected


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


# ---------------------------------------------------------------- rows 14-16: data and arguments


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


def test_stop_between_save_and_cleanup_leaves_no_stale_resume_point(capsys, root, fake_mnist_dir, monkeypatch):
    real_clear = store.clear_resume_point

    def stopped(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "clear_resume_point", stopped)
    assert run_cli(capsys, *train_argv(fake_mnist_dir, root))[0] == cli.EXIT_INTERRUPTED
    assert store.resume_epochs(root, NAME) == 3 and history_epochs(root) == [1, 2, 3]
    monkeypatch.setattr(store, "clear_resume_point", real_clear)
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))
    assert code == 0 and f"{NAME}: cached, reused" in err
    assert store.resume_epochs(root, NAME) == 0 and sorted(p.name for p in root.iterdir()) == [
        f".lock-{NAME}", NAME]


def test_interrupted_sweep_loses_at_most_one_epoch(capsys, tmp_path, fake_mnist_dir, monkeypatch):
    """Ctrl-C in epoch 3 keeps epochs 1-2; resuming gives the very weights of an uninterrupted run."""
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert run_cli(capsys, *train_argv(fake_mnist_dir, straight))[0] == 0
    real = train_module._train_one_epoch

    def ctrl_c_in_epoch_3(state, images, batch_size, epoch, on_step):
        if epoch == 3:
            raise KeyboardInterrupt
        return real(state, images, batch_size, epoch, on_step)

    monkeypatch.setattr(train_module, "_train_one_epoch", ctrl_c_in_epoch_3)
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, resumed))
    assert code == cli.EXIT_INTERRUPTED and "epochs 1-2 are kept as a resume point" in one_line(err)
    monkeypatch.undo()
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, resumed))
    assert code == 0 and f"{NAME}: resuming after epoch 2" in err
    first, second = load_file(straight / NAME / store.MODEL_FILE), load_file(resumed / NAME / store.MODEL_FILE)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert history_epochs(resumed) == [1, 2, 3]


# ---------------------------------------------------------------- exposure


_PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _pickle_paths(path: Path) -> list[str]:
    """Calls and imports in ``path`` that could unpickle: file:line and what."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
            found += [f"{where} imports {n}" for n in names if n.split(".")[0] in _PICKLE_MODULES]
        if not isinstance(node, ast.Call):
            continue
        call = ast.unparse(node.func)
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if call.endswith("torch.load") and keywords.get("weights_only") != "True":
            found.append(f"{where} torch.load without weights_only=True")
        if call.endswith(("np.load", "numpy.load")) and keywords.get("allow_pickle", "False") != "False":
            found.append(f"{where} np.load with allow_pickle")
        if call.endswith(("read_pickle", "pickle.load", "pickle.loads")):
            found.append(f"{where} {call}")
    return found


def test_no_code_path_loads_weights_through_pickle():
    sources = sorted((REPO / "vae_core").rglob("*.py")) + sorted((REPO / "dashboard").rglob("*.py"))
    assert len(sources) > 5
    grep = subprocess.run(["grep", "-rn", r"torch.load\|pickle", "vae_core", "dashboard", "--include=*.py"],
                          cwd=REPO, capture_output=True, text=True)
    print(grep.stdout)  # what a reviewer's grep shows: docs and allow_pickle=False only
    assert [hit for path in sources for hit in _pickle_paths(path)] == []


def test_pickle_scanner_catches_what_it_should(tmp_path, monkeypatch):
    """The scanner above is not vacuous: each unsafe form is reported."""
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nimport torch, numpy as np\ntorch.load('a')\n"
                   "torch.load('a', weights_only=False)\nnp.load('a', allow_pickle=True)\npickle.loads(b'')\n")
    assert len(_pickle_paths(bad)) == 5
    ok = tmp_path / "ok.py"
    ok.write_text("import torch, numpy as np\ntorch.load('a', weights_only=True)\nnp.load('a')\n")
    assert _pickle_paths(ok) == []


def test_streamlit_server_listens_on_localhost_only(tmp_path):
    """`streamlit run` from the project folder (its .streamlit/config.toml) binds 127.0.0.1 only."""
    import psutil

    script = tmp_path / "hello.py"
    script.write_text("import streamlit as st\nst.write('hello')\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def listening() -> list[str]:
            return [c.laddr.ip for c in psutil.Process(server.pid).net_connections("inet")
                    if c.status == psutil.CONN_LISTEN and c.laddr.port == port]

        wait_for(lambda: listening() != [], "streamlit to listen", server)
        assert listening() == ["127.0.0.1"]
    finally:
        server.terminate()
        server.wait(WAIT_SECONDS)


def test_streamlit_config_binds_localhost_with_xsrf():
    import tomllib

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "--server.address" in readme, "the README must say how to serve on a network on purpose"


def test_streamlit_config_compiles_scripts_without_magic():
    """Magic is off (see row 19), and no page or the router loses anything by it: nothing it would show."""
    import tomllib
    from streamlit.runtime.scriptrunner import magic

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["magicEnabled"] is False
    scripts = [REPO / "dashboard" / "app.py", *sorted((REPO / "dashboard" / "app_pages").glob("*.py"))]
    assert len(scripts) > 5
    for script in scripts:
        code = script.read_text(encoding="utf-8")
        with_magic = magic.add_magic(code, str(script))
        with_magic.body = [node for node in with_magic.body  # magic's own import of its helpers
                           if not (isinstance(node, ast.Import) and node.names[0].asname == "__streamlitmagic__")]
        assert ast.dump(with_magic) == ast.dump(ast.parse(code, str(script))), f"{script.name} relies on magic"


# ---------------------------------------------------------------- the app: rows 1-8 seen there, 17, 19, 20

APP = str(REPO / "dashboard" / "app.py")
APP_TIMEOUT = 120  # the first run of a process imports torch, slow on a busy machine
PAGES = ("overview", "training", "generate", "reconstruct", "latent_map", "explorer", "compare")


def open_app(monkeypatch, root: Path, data_dir: Path, page: str = "overview", query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(store.CHECKPOINT_DIR_ENV, str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    app = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    app.query_params.update(query or {})
    app.run()
    if page != "overview":
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_rows01_08_broken_checkpoints_are_a_visible_warning_in_the_app(monkeypatch, good_checkpoint, root, empty_data):
    shutil.copytree(good_checkpoint, root / good_checkpoint.name)
    breakers = {
        "truncated": lambda p: (p / store.MODEL_FILE).write_bytes((p / store.MODEL_FILE).read_bytes()[:100]),
        "random-bytes": lambda p: (p / store.MODEL_FILE).write_bytes(os.urandom(500)),
        "pickle": lambda p: torch.save({"w": torch.zeros(2)}, p / store.MODEL_FILE),
        "config-not-json": lambda p: (p / store.CONFIG_FILE).write_text("{oops"),
        "config-missing-key": lambda p: _edit_config(p, lambda c: c["train"].pop("lr")),
        "latent-mismatch": lambda p: _edit_config(p, lambda c: c["model"].update(latent_dim=7)),
        "newer-format": lambda p: _edit_config(p, lambda c: c.update(format_version=99)),
    }
    for name, damage in breakers.items():
        damage(Path(shutil.copytree(good_checkpoint, root / name)))
    app = open_app(monkeypatch, root, empty_data)
    assert len(app.dataframe[0].value) == 1  # the good one is listed and usable
    assert any(f"{len(breakers)} folder(s)" in w.value for w in app.sidebar.warning)
    shown = "\n".join(w.value for w in app.main.warning)
    for name in breakers:
        assert f"`{name}`: " in shown, name
    app.switch_page("app_pages/explorer.py").run()
    assert not app.exception and app.image  # the usable model still decodes


LATENTS = (2, 3, 4, 5, 6)


@pytest.fixture(scope="module")
def five_models(tmp_path_factory, tiny_data) -> Path:
    root = tmp_path_factory.mktemp("five-models")
    for latent_dim in LATENTS:
        write_tiny_checkpoint(root, *tiny_data, latent_dim=latent_dim, with_projections=False)  # t-SNE is slow
    return root


def _decoy(tmp_path: Path, good_checkpoint: Path) -> Path:
    """A valid checkpoint and a secret file outside the checkpoint root, for traversal attempts."""
    outside = tmp_path / "outside"
    shutil.copytree(good_checkpoint, outside / good_checkpoint.name)
    (outside / "secret.txt").write_text("not for the app")
    return outside


_OPENED: list[str] | None = None  # paths opened or listed while a test records them


def _audit(event: str, args: tuple) -> None:
    recording = _OPENED is not None and event in ("open", "os.listdir", "os.scandir")
    if recording and args and isinstance(args[0], str | os.PathLike):
        _OPENED.append(os.path.abspath(os.fspath(args[0])))


_AUDITING: list[bool] = []


def _record_opened_paths() -> None:
    """Start recording paths opened or listed (audit hooks are permanent: installed once)."""
    global _OPENED
    if not _AUDITING:
        sys.addaudithook(_audit)
        _AUDITING.append(True)
    _OPENED = []


@pytest.mark.parametrize("name", ["..", "../outside", "../outside/mnist-z2-h16-e2-b32-lr0.001-s0", "/etc/passwd",
                                  "a/b", "..\\outside", ".resume-x", "", "x\x00y", "link-out"])
def test_row17_checkpoint_path_refuses_names_that_leave_the_root(name, root, tmp_path, good_checkpoint):
    outside = _decoy(tmp_path, good_checkpoint)
    (root / "link-out").symlink_to(outside / good_checkpoint.name)
    with pytest.raises(store.CheckpointError, match="not a checkpoint name|outside the checkpoint directory"):
        store.checkpoint_path(root, name)
    assert store.checkpoint_path(root, "%2e%2e") == (root / "%2e%2e").resolve()  # a plain name stays inside


def test_row17_query_params_and_widget_values_never_read_outside_the_root(monkeypatch, tmp_path, root,
                                                                          good_checkpoint, empty_data, five_models):
    global _OPENED
    for latent_dim in (2, 3):
        name = good_checkpoint.name.replace("-z2-", f"-z{latent_dim}-")
        shutil.copytree(five_models / name, root / name)
    outside = _decoy(tmp_path, good_checkpoint)
    _record_opened_paths()
    hostile = {"model": f"../outside/{good_checkpoint.name}", "checkpoint": str(outside / good_checkpoint.name),
               "dir": str(outside), "path": "../../etc/passwd", "page": "../outside/secret.txt"}
    try:
        app = open_app(monkeypatch, root, empty_data, "explorer", query=hostile)
        assert app.sidebar.selectbox[-1].value == good_checkpoint.name  # z=2, the default
        _forge_widget_value(app, app.sidebar.selectbox[-1], "z = 3")  # the forging itself works...
        assert app.sidebar.selectbox[-1].value == good_checkpoint.name.replace("-z2-", "-z3-")
        _forge_widget_value(app, app.sidebar.selectbox[-1], f"../outside/{good_checkpoint.name}")
        chosen = app.sidebar.selectbox[-1].value  # ...but a name that is not listed is not taken
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert chosen in {c.name for c in store.scan(root)[0]}
    assert any(path.startswith(str(root)) for path in opened)  # the recorder saw the app's own reads
    assert [p for p in opened if p.startswith(str(outside))] == []


def _forge_widget_value(app, widget, value: str):
    """Rerun as a hand-made client would: ``widget`` sends ``value``, whatever its options are.

    AppTest only lets a selectbox pick one of its options, so the message is built directly.
    """
    states = app._tree.get_widget_states()
    for state in states.widgets:
        if state.id == widget.id:
            state.string_value = value
            break
    else:
        pytest.fail("widget not found in the widget states")
    app._run(states)
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("state", ["empty", "missing"])
def test_row20_dashboard_with_no_checkpoint_dir(monkeypatch, tmp_path, empty_data, state):
    root = tmp_path / "checkpoints"
    if state == "empty":
        root.mkdir()
    app = open_app(monkeypatch, root, empty_data)
    assert any(f"No checkpoints in `{root}`" in w.value for w in app.sidebar.warning)
    for page in PAGES:
        app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
        notes = [i.value for i in app.info]
        assert any(f"There are no trained models in `{root}` yet" in n and "vae-explorer train" in n
                   for n in notes), (page, notes)
    assert root.exists() == (state == "empty")  # the app creates nothing


def _session(number: int) -> list[str]:
    """One user: open the explorer, pick a model, move a slider twice; returns the digit image URLs."""
    from streamlit.testing.v1 import AppTest

    def ran(app):
        assert not app.exception, [e.value for e in app.exception]  # a failed compile shows here
        return app

    app = ran(AppTest.from_file(APP, default_timeout=APP_TIMEOUT).run())
    ran(app.switch_page("app_pages/explorer.py").run())
    box = app.sidebar.selectbox[-1]
    app = ran(box.select_index(box.options.index(f"z = {LATENTS[number % len(LATENTS)]}")).run())
    ran(app.toggle(key="explorer_live").set_value(False).run())  # the server path: each value decoded here
    urls = []
    for value in (-2.0, 2.0):
        ran([s for s in app.slider if s.label.startswith("z[")][0].set_value(value).run())
        urls += [i.value[0] for i in app.image if i.captions and i.captions[0].startswith("Decoded digit")]
    return urls


@pytest.fixture
def one_runtime_for_all_sessions(monkeypatch):
    """One Streamlit runtime shared by concurrent AppTest sessions, as a server has.

    ``AppTest.run`` installs a fresh mock runtime in the process-global ``Runtime._instance``
    and clears it when its run ends, which would pull the runtime from under the other
    sessions' runs. Here one runtime is installed for the whole test and AppTest's per-run
    swaps land on a stand-in class instead. The options of .streamlit/config.toml that decide
    how scripts compile apply as under `streamlit run` from the project folder, wherever pytest
    runs from. Scripts are not shared: AppTest compiles app.py and the page afresh on every run
    of every session (a server compiles each once, under its script cache's lock), so sessions
    compile at once far more often than a server's first visitors do.
    """
    from unittest.mock import MagicMock

    import streamlit.testing.v1.app_test as app_test
    import tomllib
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.testing.v1.util import patch_config_options

    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = app_test.MediaFileManager(app_test.MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = app_test.DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    runtime.bidi_component_registry = app_test.BidiComponentManager()

    class StandIn:
        _instance = None

    monkeypatch.setattr(app_test, "Runtime", StandIn)
    monkeypatch.setattr(Runtime, "_instance", runtime)
    runner = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8")).get("runner", {})
    options = {"global.appTest": True, **{f"runner.{name}": value for name, value in runner.items()}}
    with patch_config_options(options):  # nested per-run patches then restore these
        yield


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_row19_twenty_concurrent_sessions(monkeypatch, five_models, empty_data, one_runtime_for_all_sessions):
    import threading
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    import psutil

    monkeypatch.setenv(store.CHECKPOINT_DIR_ENV, str(five_models))
    monkeypatch.setenv("VAE_DATA_DIR", str(empty_data))
    loads, guard, real_load = Counter(), threading.Lock(), store.load_model

    def counted_load(checkpoint, device="cpu"):
        with guard:
            loads[checkpoint.name] += 1
        return real_load(checkpoint, device)

    monkeypatch.setattr(store, "load_model", counted_load)
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(_session, range(20)))
    seconds = time.perf_counter() - started
    after = process.memory_info().rss
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(f"20 sessions in {seconds:.1f} s; RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MiB, "
          f"peak RSS of the test process {peak / 2**20:.0f} MiB; model loads {dict(loads)}")
    assert all(len(urls) == 2 and urls[0] != urls[1] for urls in results)  # every slider move redrew
    assert sorted(loads) == sorted(c.name for c in store.scan(five_models)[0])
    assert set(loads.values()) == {1}, loads  # each model loaded once, shared by all sessions
    assert after - before < 400 * 2**20 and peak < 3 * 2**30
