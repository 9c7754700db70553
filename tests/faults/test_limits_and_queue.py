"""Rows 38-41 of the fault matrix: model sizes beyond the stated bounds, and odd files in the training queue's folder.

The Train page is opened through ``dashboard/app.py`` with VAE_TRAIN_WORKERS=0, so no worker
process starts unless a test starts one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.faults.conftest import APP, APP_TIMEOUT, one_line, run_cli
from vae_core import cli, worker
from vae_core.config import (
    MAX_EPOCHS,
    MAX_HIDDEN_DIM,
    MAX_LATENT_DIM,
    MAX_PARAMETERS,
    ModelConfig,
    TrainConfig,
    mlp_parameters,
)
from vae_core.jobs import JobQueue, QueueError, queue_dir

TINY = ["--hidden-dim", "16", "--epochs", "1", "--batch-size", "32", "--quiet", "--no-projections"]


@pytest.fixture
def root(tmp_path, tiny_checkpoint_root) -> Path:
    """A writable copy of the tiny checkpoints (z = 2 and 3)."""
    return Path(shutil.copytree(tiny_checkpoint_root, tmp_path / "checkpoints"))


def open_page(monkeypatch, root: Path, data_dir: Path, page: str = "train/page.py") -> AppTest:
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("VAE_TRAIN_WORKERS", "0")
    app = AppTest.from_file(APP, default_timeout=APP_TIMEOUT).run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def shown(app: AppTest) -> list[str]:
    """Every error and warning on the page, the sidebar's included."""
    return [e.value for e in (*app.error, *app.warning)]


# ---------------------------------------------------------------- row 38: bounds on model size and epochs


@pytest.mark.parametrize(("flags", "message"), [
    (["--hidden-dim", "1000000000"],
     f"hidden width 1,000,000,000 is more than the {MAX_HIDDEN_DIM:,} this explorer trains: "
     f"pass --hidden-dim {MAX_HIDDEN_DIM} or less"),
    (["--latent-dims", "2", "100000"],
     f"latent size 100,000 is more than the {MAX_LATENT_DIM:,} this explorer trains: "
     f"pass --latent-dims {MAX_LATENT_DIM} or less"),
    (["--hidden-dim", "8000", "--latent-dims", "1000"],
     f"this MLP would have {mlp_parameters(1000, 8000):,} parameters, more than the {MAX_PARAMETERS:,} "
     "this explorer trains: "
     "pass a smaller --hidden-dim or --latent-dims"),
    (["--epochs", "1000000"],
     f"epochs 1,000,000 is more than the {MAX_EPOCHS:,} this explorer trains: pass --epochs {MAX_EPOCHS} or less"),
])
def test_row38_a_model_too_big_is_one_line_before_anything_runs(capsys, tmp_path, empty_data, flags, message):
    argv = ["train", "--latent-dims", "2", *TINY, *flags, "--data-dir", str(empty_data),
            "--checkpoint-dir", str(tmp_path / "checkpoints")]
    code, _, err = run_cli(capsys, *argv)
    assert code == cli.EXIT_USAGE
    assert one_line(err) == f"vae-explorer train: error: {message}"
    assert not (tmp_path / "checkpoints").exists()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("train_hidden", 1_000_000_000, f"hidden width 1,000,000,000 is more than the {MAX_HIDDEN_DIM:,} this explorer "
                                    f"trains: pass --hidden-dim {MAX_HIDDEN_DIM} or less"),
    ("train_epochs", 1_000_000, f"epochs 1,000,000 is more than the {MAX_EPOCHS:,} this explorer trains: "
                                f"pass --epochs {MAX_EPOCHS} or less"),
])
def test_row38_the_train_page_shares_the_clis_bounds(monkeypatch, root, fake_mnist_dir, key, value, message):
    app = open_page(monkeypatch, root, fake_mnist_dir)
    app.number_input(key=key).set_value(value).run()
    assert not app.exception
    assert message in [e.value for e in app.error]
    assert app.button(key="train_submit").disabled
    assert not JobQueue(root).exists()


def test_row38_the_bounds_leave_the_shipped_sizes_trainable():
    for latent_dim in (2, 5, 10, 20, 50):
        ModelConfig(latent_dim=latent_dim, hidden_dim=400)
    ModelConfig(latent_dim=MAX_LATENT_DIM, hidden_dim=1024)
    TrainConfig(epochs=MAX_EPOCHS)


# ---------------------------------------------------------------- row 39: `.jobs` is a file


def test_row39_a_jobs_file_is_named_at_once_and_every_page_works(monkeypatch, capsys, root, fake_mnist_dir):
    queue_dir(root).write_text("not a folder")
    expected = (f"the training queue's folder {queue_dir(root)} is a file, not a folder: move or delete that file "
                "to use the Train page (checkpoints stay)")
    with pytest.raises(QueueError, match="is a file, not a folder"):
        JobQueue(root).jobs()
    app = open_page(monkeypatch, root, fake_mnist_dir)
    assert expected in shown(app)  # before Train is pressed
    assert not any("File exists" in line for line in shown(app))
    app.switch_page("overview/page.py").run()
    assert not app.exception
    code, _, err = run_cli(capsys, "worker", "--checkpoint-dir", str(root))
    assert (code, one_line(err)) == (cli.EXIT_USAGE, f"vae-explorer worker: error: {expected}")


# ---------------------------------------------------------------- row 40: a stray lock file in `.jobs`


class _FakeWorker:
    """Stands in for the worker process ``spawn_workers`` would start."""

    started: list[list[str]] = []

    def __init__(self, argv, **kwargs):
        _FakeWorker.started.append(argv)

    def poll(self):
        return None


def test_row40_a_stray_lock_file_neither_breaks_pages_nor_stops_the_queue(monkeypatch, root, fake_mnist_dir):
    queue = JobQueue(root)
    queue.submit(ModelConfig(latent_dim=4, hidden_dim=16), TrainConfig(epochs=1, batch_size=32), str(fake_mnist_dir))
    (queue_dir(root) / "worker-x.lock").write_text("")
    assert worker.live_slots(root) == set()
    for page in ("overview/page.py", "train/page.py"):
        app = open_page(monkeypatch, root, fake_mnist_dir, page)
        assert not any("invalid literal" in line for line in shown(app)), shown(app)
    monkeypatch.setenv("VAE_TRAIN_WORKERS", "1")
    monkeypatch.setattr(worker.subprocess, "Popen", _FakeWorker)
    _FakeWorker.started.clear()
    assert worker.spawn_workers(root) == 1  # the queued job still gets its worker
    assert _FakeWorker.started[0][-5:] == ["worker", "--checkpoint-dir", str(root), "--idle", str(worker.IDLE_SECONDS)]


# ---------------------------------------------------------------- row 41: a queue error is shown once


def test_row41_a_queue_error_is_shown_once_on_the_train_page(monkeypatch, root, fake_mnist_dir):
    queue = JobQueue(root)
    queue.path.parent.mkdir(parents=True)
    queue.path.write_bytes(b"this is not an SQLite database" * 10)
    app = open_page(monkeypatch, root, fake_mnist_dir)
    app.text_input(key="train_latent_sizes").set_value("4").run()

    def count() -> int:
        return sum(line.startswith(f"the training queue {queue.path}") for line in shown(app))

    assert count() == 1
    app.button(key="train_submit").click().run()
    assert not app.exception and count() == 1


# ---------------------------------------------------------------- row 24: a queue folder that cannot be written


def test_row24_a_read_only_queue_is_one_line_and_every_page_keeps_working(monkeypatch, tmp_path, root,
                                                                          fake_mnist_dir):
    """Row 24 on a real read-only bind mount (chmod does not stop root): the Train page says so, the pages work."""
    from tests.faults.mounts import read_only_view

    JobQueue(root).submit(ModelConfig(latent_dim=4, hidden_dim=16), TrainConfig(epochs=1, batch_size=32),
                          str(fake_mnist_dir))
    with read_only_view(root, tmp_path / "read-only") as view:
        app = open_page(monkeypatch, view, fake_mnist_dir)
        queue_lines = [line for line in shown(app) if line.startswith("the training queue")]
        assert queue_lines and all("Read-only file system" in line and "\n" not in line for line in queue_lines)
        for page in ("overview", "training", "generate", "reconstruct", "explorer", "traversals", "compare"):
            app.switch_page(f"{page}/page.py").run()
            assert not app.exception, (page, [e.value for e in app.exception])
