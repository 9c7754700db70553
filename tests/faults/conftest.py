"""What the fault tests (tests/faults/test_*.py) share: constants, fixtures and helpers.

The fault matrix, whose row numbers the tests cite, is in tests/README.md.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write_tiny_checkpoint
from vae_core import atomic, cli, store

REPO = Path(__file__).resolve().parents[2]
CHILD = REPO / "tests" / "faults" / "fault_child.py"
NAME = "mnist-z2-h16-e3-b32-lr0.001-s0"  # run name of TRAIN_FLAGS
TRAIN_FLAGS = ["--latent-dims", "2", "--hidden-dim", "16", "--epochs", "3", "--batch-size", "32",
               "--seed", "0", "--no-projections", "--quiet"]
WAIT_SECONDS = 90  # generous: two cores shared with other work

APP = str(REPO / "dashboard" / "app.py")
APP_TIMEOUT = 120  # the first run of a process imports torch, slow on a busy machine
PAGES = ("overview", "training", "generate", "reconstruct", "latent_map", "explorer", "traversals", "arithmetic",
         "your_digit", "compare")
LATENTS = (2, 3, 4, 5, 6)


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


@pytest.fixture(scope="module")
def five_models(tmp_path_factory, tiny_data) -> Path:
    root = tmp_path_factory.mktemp("five-models")
    for latent_dim in LATENTS:
        write_tiny_checkpoint(root, *tiny_data, latent_dim=latent_dim, with_projections=False)  # t-SNE is slow
    return root


def one_line(text: str) -> str:
    """The single non-empty line of ``text``; fails when there are more or none."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {lines}"
    return lines[0]


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``vae-explorer argv`` (strings or paths) in this process: (exit status, stdout, stderr)."""
    try:
        code = cli.main([str(arg) for arg in argv])
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def train_argv(data_dir: Path, root: Path, *extra: str) -> list[str]:
    return ["train", *TRAIN_FLAGS, "--data-dir", str(data_dir), "--checkpoint-dir", str(root), *extra]


def leftovers(root: Path) -> list[str]:
    """Half-written work files of interrupted saves (``.tmp-*`` / ``.old-*``), anywhere in root."""
    return sorted(p.name for p in root.rglob(".*") if p.name.startswith((atomic.TEMP_PREFIX, atomic.OLD_PREFIX)))


def edit_config(path: Path, edit) -> None:
    config = json.loads((path / store.CONFIG_FILE).read_text())
    edit(config)
    (path / store.CONFIG_FILE).write_text(json.dumps(config))


def mark_as_old(root: Path) -> dict[str, bytes]:
    """Tag the checkpoint of NAME (retraining gives identical weights) and return its files."""
    edit_config(root / NAME, lambda c: c["info"].update(marker="the old checkpoint"))
    return files_of(root)


def files_of(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / NAME).iterdir()}


def history_epochs(root: Path) -> list[int]:
    return [row["epoch"] for row in store.read_checkpoint(root / NAME).history]


def child_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


CHILDREN: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_orphans():
    """A failing test must not leave a paused child behind: kill what is still running."""
    yield
    while CHILDREN:
        child = CHILDREN.pop()
        if child.poll() is None:
            child.kill()
            child.wait()


def start_child(mode: str, ready: Path, argv: list[str], log: Path) -> subprocess.Popen:
    """tests/fault_child.py in its own process, stderr to ``log``."""
    with open(log, "wb") as handle:
        child = subprocess.Popen([sys.executable, str(CHILD), mode, str(ready), *argv], cwd=REPO,
                                 env=child_env(), stdout=subprocess.DEVNULL, stderr=handle)
    CHILDREN.append(child)
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


def open_app(monkeypatch, root: Path, data_dir: Path, page: str = "overview", query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(store.CHECKPOINT_DIR_ENV, str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    app = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    app.query_params.update(query or {})
    app.run()
    if page != "overview":
        app.switch_page(f"{page}/page.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app
