"""Fault matrix rows 9 and 10: a save killed (SIGKILL) or interrupted (SIGINT, Ctrl-C).

SIGKILL and SIGINT go to real `python -m vae_core` processes; tests/faults/fault_child.py pauses
such a process at the exact moment a row needs. Nothing trained is lost beyond the current
epoch, and no partial checkpoint is ever listed. The matrix is in tests/README.md.
"""

from __future__ import annotations

import inspect
import os
import signal
from pathlib import Path

import torch
from safetensors.torch import load_file

from tests.faults.conftest import (
    NAME,
    WAIT_SECONDS,
    files_of,
    history_epochs,
    kill_when_paused,
    leftovers,
    mark_as_old,
    one_line,
    run_cli,
    start_child,
    train_argv,
    wait_for,
)
from vae_core import atomic, cli, store
from vae_core import train as train_module

# ---------------------------------------------------------------- row 9: SIGKILL


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


# ---------------------------------------------------------------- row 10: SIGINT / Ctrl-C


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

    def ctrl_c_in_epoch_3(*args, **kwargs):
        if inspect.signature(real).bind(*args, **kwargs).arguments["epoch"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

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
