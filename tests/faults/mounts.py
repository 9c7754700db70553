"""Real file systems for the disk rows of the fault matrix: a small tmpfs that fills up, a read-only bind mount.

Mounting needs root (or CAP_SYS_ADMIN). Where it is impossible the test is skipped with the
reason, and fails under CI=true, which always runs as root.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import missing_prerequisite


def _mount(*args: str) -> None:
    try:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        missing_prerequisite(f"cannot run mount ({error}): these tests need root to mount a real file system")
    if done.returncode != 0:
        missing_prerequisite(f"cannot mount here ({done.stderr.strip() or done.returncode}): "
                             "these tests need root (or CAP_SYS_ADMIN) to mount a real file system")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "3m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` for the block: a real disk that can be filled."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        _unmount(path)


@contextlib.contextmanager
def read_only_view(source: Path, path: Path) -> Iterator[Path]:
    """``source`` seen read-only at ``path``: a bind mount remounted ``ro``, so writes fail with EROFS, even as root."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(source), str(path))
    try:
        _mount("-o", "remount,ro,bind", str(path))
        yield path
    finally:
        _unmount(path)


def fill(disk: Path, leave: int = 0) -> Path:
    """Write zeros into ``disk`` until it is full, then give back ``leave`` bytes; returns the filler file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:  # unbuffered: nothing is left to fail again at close
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler
