"""Rows 35-37 of the fault matrix: a real full disk (a 3 MB tmpfs) and a real read-only file system (a bind mount).

Row 13 mocks an ``OSError``; these rows fill a real file system, where safetensors, numpy and
SQLite each fail in their own way, and remount a folder read-only, where even deleting a
temporary file fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_tiny_checkpoint
from tests.faults.conftest import (
    NAME,
    REPO,
    child_env,
    files_of,
    leftovers,
    mark_as_old,
    one_line,
    run_cli,
    train_argv,
)
from tests.faults.mounts import fill, read_only_view, small_tmpfs
from vae_core import atomic, cli, projections, store
from vae_core.config import ModelConfig, TrainConfig
from vae_core.jobs import JobQueue, QueueError

NO_SPACE = ": free some space and run again"


@pytest.fixture
def disk(tmp_path):
    with small_tmpfs(tmp_path / "disk", "3m") as path:
        yield path


# ---------------------------------------------------------------- row 35: full disk, safetensors and numpy


def test_row35_full_disk_during_trainings_save_is_one_line(capsys, disk, fake_mnist_dir):
    """safetensors raises SafetensorError ('No space left on device (os error 28)'), which is no OSError."""
    root = disk / "checkpoints"
    assert run_cli(capsys, *train_argv(fake_mnist_dir, root))[0] == 0
    old = mark_as_old(root)
    fill(disk)
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root, "--force"))
    line = one_line(err)
    assert code == cli.EXIT_USAGE, err
    assert line.startswith(f"vae-explorer train: error: no space left on the device while saving {root}/"), line
    assert line.endswith(NO_SPACE)
    assert files_of(root) == old and leftovers(root) == []
    assert [c.name for c in store.scan(root)[0]] == [NAME]


def test_row35_full_disk_while_saving_the_maps_keeps_the_old_file(disk, tiny_data):
    """numpy's writer on a full disk: one ``SaveError`` line, the old projections.npz kept, no temporary file."""
    checkpoint = write_tiny_checkpoint(disk / "checkpoints", *tiny_data)
    before = (checkpoint.path / store.PROJECTIONS_FILE).read_bytes()
    fill(disk)
    bigger = {key: value.repeat(20, axis=0) for key, value in projections.load_projections(checkpoint).items()}
    with pytest.raises(atomic.SaveError) as raised:
        projections.save_projections(checkpoint, bigger)
    assert str(raised.value) == (f"no space left on the device while saving "
                                 f"{checkpoint.path / store.PROJECTIONS_FILE}{NO_SPACE}")
    assert (checkpoint.path / store.PROJECTIONS_FILE).read_bytes() == before
    assert leftovers(disk) == []


# ---------------------------------------------------------------- row 36: full disk, the training queue (SQLite)


def test_row36_full_disk_under_the_training_queue_is_one_line(disk, fake_mnist_dir):
    root = disk / "checkpoints"
    queue = JobQueue(root)
    queue.submit(ModelConfig(latent_dim=2, hidden_dim=16), TrainConfig(epochs=1, batch_size=32), str(fake_mnist_dir))
    fill(disk)
    expected = f"the training queue {queue.path} cannot be used (No space left on device){NO_SPACE}"
    with pytest.raises(QueueError) as raised:  # what the Train page shows when Train is pressed
        queue.submit(ModelConfig(latent_dim=3, hidden_dim=16), TrainConfig(epochs=1, batch_size=32),
                     str(fake_mnist_dir))
    assert str(raised.value) == expected
    worker = subprocess.run([sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(root)],
                            capture_output=True, text=True, timeout=300, cwd=REPO, env=child_env())
    assert worker.returncode == cli.EXIT_USAGE, worker.stderr
    assert one_line(worker.stderr) == f"vae-explorer worker: error: {expected}"


# ---------------------------------------------------------------- row 37: a read-only file system


@pytest.fixture
def read_only_root(tmp_path, tiny_data):
    """A checkpoint root holding one tiny model with its maps and a queued job, seen through a read-only mount."""
    source = tmp_path / "source"
    write_tiny_checkpoint(source, *tiny_data)
    JobQueue(source).submit(ModelConfig(latent_dim=3, hidden_dim=16), TrainConfig(epochs=1, batch_size=32), "data")
    with read_only_view(source, tmp_path / "read-only") as view:
        yield view
    assert leftovers(source) == []


def read_only_line(path: Path) -> str:
    return f"cannot write to {path} (read-only file system): pass a writable --checkpoint-dir or set VAE_CHECKPOINT_DIR"


def test_row37_export_csv_into_a_read_only_folder(capsys, read_only_root, fake_mnist_dir):
    name = store.scan(read_only_root)[0][0].name
    output = read_only_root / "out.csv"
    code, _, err = run_cli(capsys, "export", "csv", "--model", name, "--checkpoint-dir", str(read_only_root),
                           "--data-dir", str(fake_mnist_dir), "--output", str(output))
    assert code == cli.EXIT_USAGE
    assert one_line(err) == (f"vae-explorer export: error: cannot write {output} (Read-only file system): "
                             "pass another --output")


def test_row37_project_force_says_read_only_before_running_tsne(capsys, read_only_root, fake_mnist_dir,
                                                                 monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("t-SNE ran before the folder was found read-only")

    monkeypatch.setattr(projections, "tsne_2d", must_not_run)
    checkpoint = store.scan(read_only_root)[0][0]
    code, _, err = run_cli(capsys, "project", "--force", "--checkpoint-dir", str(read_only_root),
                           "--data-dir", str(fake_mnist_dir))
    assert code == cli.EXIT_USAGE
    assert one_line(err) == f"vae-explorer project: error: {read_only_line(checkpoint.path)}"


def test_row37_evaluate_says_read_only_before_evaluating(capsys, read_only_root, fake_mnist_dir):
    checkpoint = store.scan(read_only_root)[0][0]
    code, _, err = run_cli(capsys, "evaluate", "--force", "--checkpoint-dir", str(read_only_root),
                           "--data-dir", str(fake_mnist_dir))
    assert code == cli.EXIT_USAGE
    assert one_line(err) == f"vae-explorer evaluate: error: {read_only_line(checkpoint.path)}"


@pytest.mark.parametrize("queue", ["without .jobs", "with a queue"])
def test_row37_worker_on_a_read_only_root(capsys, read_only_root, queue):
    if queue == "without .jobs":
        shutil.rmtree(read_only_root.parent / "source" / ".jobs")
    code, _, err = run_cli(capsys, "worker", "--checkpoint-dir", str(read_only_root))
    assert code == cli.EXIT_USAGE
    assert one_line(err) == f"vae-explorer worker: error: {read_only_line(read_only_root / '.jobs')}"
