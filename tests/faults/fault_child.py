"""Run `vae-explorer` with a pause injected at one chosen point, for the fault tests in tests/faults/.

    python tests/fault_child.py MODE READY_FILE vae-explorer-arguments...

When the process reaches the point named by MODE it creates READY_FILE and waits, so the
test can send a signal (or start a rival process) at exactly that moment:

    pause-in-epoch-2   at the start of training epoch 2 (epoch 1 done, resume point saved)
    wait-in-epoch-2    as above, but carry on once READY_FILE + ".go" exists
    pause-before-swap  the new checkpoint is fully written in its temporary directory and
                       about to be renamed onto its final name
    pause-mid-swap     the old checkpoint was renamed aside, the new one not yet renamed in
    pause-mid-resume-swap  the same for the epoch resume point (first met when saving epoch 2)
    pause-in-import-and-exit  while the command imports its module, then again at interpreter shutdown
                       (READY_FILE + ".exit"): a first Ctrl-C lands in an import, a second in the shutdown

The faults are injected by wrapping functions in this child process only, so the package
carries no test hooks.
"""

from __future__ import annotations

import atexit
import importlib.abc
import inspect
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vae_core import cli, train  # noqa: E402

PAUSE_SECONDS = 120  # far longer than any test waits: the test ends the pause with a signal


def _pause(ready: Path, go: Path | None = None) -> None:
    ready.touch()
    deadline = time.monotonic() + PAUSE_SECONDS
    while time.monotonic() < deadline and not (go and go.exists()):
        time.sleep(0.05)


def _pause_in_epoch(ready: Path, go: Path | None) -> None:
    real = train._train_one_epoch

    def wrapped(*args, **kwargs):
        if inspect.signature(real).bind(*args, **kwargs).arguments["epoch"] == 2:
            _pause(ready, go)
        return real(*args, **kwargs)

    train._train_one_epoch = wrapped


def _pause_in_swap(ready: Path, mid: bool, resume: bool) -> None:
    real = os.replace

    def is_target(path: Path) -> bool:  # resume points and work files start with '.'
        return path.name.startswith(".resume-") if resume else not path.name.startswith(".")

    def wrapped(src, dst):
        src, dst = Path(src), Path(dst)
        if not mid and src.name.startswith(".tmp-") and is_target(dst):
            _pause(ready)
        real(src, dst)
        if mid and is_target(src) and dst.name.startswith(".old-"):
            _pause(ready)

    os.replace = wrapped


class _PauseOnImport(importlib.abc.MetaPathFinder):
    """Pauses the first import of ``module``, as a slow import of torch would be paused by Ctrl-C."""

    def __init__(self, module: str, ready: Path):
        self.module, self.ready = module, ready

    def find_spec(self, fullname, path, target=None):
        if fullname == self.module:
            sys.meta_path.remove(self)
            _pause(self.ready)
        return None


def _pause_in_import_and_exit(ready: Path, argv: list[str]) -> None:
    sys.meta_path.insert(0, _PauseOnImport(f"vae_core.cli.{argv[0]}", ready))
    atexit.register(_pause, ready.with_name(ready.name + ".exit"))


def main() -> int:
    mode, ready, argv = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    if mode in ("pause-in-epoch-2", "wait-in-epoch-2"):
        go = ready.with_name(ready.name + ".go") if mode.startswith("wait") else None
        _pause_in_epoch(ready, go)
    elif mode in ("pause-before-swap", "pause-mid-swap", "pause-mid-resume-swap"):
        _pause_in_swap(ready, mid=mode != "pause-before-swap", resume="resume" in mode)
    elif mode == "pause-in-import-and-exit":
        _pause_in_import_and_exit(ready, argv)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return cli.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
