"""`vae-explorer sweep` on a real local Ray: two tiny trials, one of them killed and resumed."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import missing_prerequisite
from vae_core import store

pytestmark = pytest.mark.slow
EPOCHS = 400  # long enough to kill the first trial part-way, a few seconds each on the fake data
FIRST = f"mnist-z2-h16-e{EPOCHS}-b32-lr0.001-s0"


def trial_workers() -> list[psutil.Process]:
    """The Ray worker processes running a trial (Tune runs a function trainable in an ImplicitFunc actor)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if command.startswith("ray::") and "ImplicitFunc" in command:
            found.append(process)
    return found


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def resume_history(root, name: str) -> list[dict]:
    """The epochs in a running trial's resume point, read as they stand. Not through ``store.load_resume_point``,
    which repairs a half-done save and belongs to the lock's holder: the trial replaces the folder after every
    epoch, so a read may meet the swap and is tried again."""
    read = []

    def readable() -> bool:
        try:
            read.append(json.loads((root / f".resume-{name}" / store.RESUME_META).read_text())["history"])
        except (OSError, ValueError, KeyError):
            return False
        return True

    wait_for(readable, 30, "a readable resume point")
    return read[-1]


def test_a_sweep_trains_its_grid_and_a_killed_trial_resumes_from_its_last_epoch(tmp_path, fake_mnist_dir):
    if importlib.util.find_spec("ray") is None:
        missing_prerequisite("Ray is not installed: pip install -e '.[ray]'")
    root = tmp_path / "checkpoints"
    command = [sys.executable, "-m", "vae_core", "sweep", "--data-dir", str(fake_mnist_dir), "--checkpoint-dir",
               str(root), "--latent-dims", "2", "3", "--hidden-dim", "16", "--epochs", str(EPOCHS),
               "--batch-size", "32", "--cpus", "2", "--max-concurrent", "1", "--no-projections",
               "--storage-path", str(tmp_path / "ray_results")]
    with open(tmp_path / "sweep.log", "wb") as log:
        sweep = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: store.resume_epochs(root, FIRST) >= 3, 180, "the first trial's resume point")
            workers = trial_workers()
            assert len(workers) == 1, [" ".join(p.cmdline()) for p in psutil.process_iter() if "ray::" in p.name()]
            kept = resume_history(root, FIRST)
            workers[0].send_signal(signal.SIGKILL)  # the trial's process dies mid-run, as on a lost node
            assert sweep.wait(timeout=300) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
        finally:
            if sweep.poll() is None:
                sweep.kill()
    checkpoints, problems = store.scan(root)
    assert [c.name for c in checkpoints] == [FIRST, FIRST.replace("-z2-", "-z3-")] and problems == []
    history = json.loads((root / FIRST / "history.json").read_text())
    assert len(history) == EPOCHS and len(kept) < EPOCHS
    assert history[:len(kept)] == kept  # the epochs done before the kill were kept, not trained again
    assert not (root / f".resume-{FIRST}").exists()
