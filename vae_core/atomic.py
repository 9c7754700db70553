"""Atomic writes: build beside the target, fsync, then ``os.replace``.

A reader (or a crash) sees the old complete file or directory or the new complete
one, never a mixture. Used by ``store`` for everything under the checkpoint root.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from safetensors import SafetensorError

TEMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"


class SaveError(OSError):
    """Writing failed; the target is unchanged. The message says why and what to do."""


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def explain(error: OSError, target: Path) -> SaveError:
    """The one-line ``SaveError`` for an OS error met while writing ``target``."""
    if error.errno == errno.ENOSPC:
        return SaveError(f"no space left on the device while saving {target}: free some space and run again")
    if error.errno == errno.EDQUOT:
        return SaveError(f"disk quota exceeded while saving {target}: free some space or ask for a larger quota")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "read-only file system" if error.errno == errno.EROFS else "permission denied"
        return SaveError(
            f"cannot write to {target.parent} ({why}): "
            "pass a writable --checkpoint-dir or set VAE_CHECKPOINT_DIR"
        )
    return SaveError(f"could not save {target}: {error.strerror or error}")


def os_error_of(error: BaseException) -> OSError | None:
    """The OS error behind a failed write, or None when ``error`` is not one.

    safetensors reports I/O failures as ``SafetensorError`` (not an ``OSError``) whose text
    ends in ``(os error N)``; that N is the errno a full disk or a read-only mount gives.
    """
    if isinstance(error, OSError):
        return error
    if isinstance(error, SafetensorError):
        found = re.search(r"os error (\d+)", str(error))
        if found:
            code = int(found.group(1))
            return OSError(code, os.strerror(code))
    return None


def write_problem(folder: Path) -> OSError | None:
    """Why nothing can be written in ``folder`` (or its nearest existing parent), or None.

    Asked before long work (t-SNE, evaluation) so that a read-only or unwritable folder is
    reported at once instead of after minutes of computing; creates nothing.
    """
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return OSError(errno.EROFS, os.strerror(errno.EROFS))
    except OSError as error:
        return error
    if not os.access(folder, os.W_OK | os.X_OK):
        return OSError(errno.EACCES, os.strerror(errno.EACCES))
    return None


def check_writable(folder: Path, target: Path | None = None) -> None:
    """Raise the ``SaveError`` a save into ``folder`` would end in, before any work is done."""
    problem = write_problem(folder)
    if problem is not None:
        raise explain(problem, target or Path(folder) / "file") from problem


@contextlib.contextmanager
def translated_errors(target: Path) -> Iterator[None]:
    """Turn any OS error raised inside (safetensors' included) into the ``SaveError`` that explains it."""
    try:
        yield
    except SaveError:
        raise
    except (OSError, SafetensorError) as error:
        cause = os_error_of(error)
        if cause is None:  # a SafetensorError that is no I/O failure: a bug, shown as it is
            raise
        raise explain(cause, target) from error


def write_file_atomic(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary_path)`` then move the result onto ``target``."""
    temporary = target.with_name(f"{TEMP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}")
    try:
        with translated_errors(target):
            write(temporary)
            _fsync_path(temporary)
            os.replace(temporary, target)
            _fsync_path(target.parent)
    finally:  # on a read-only file system even this unlink fails: it must not hide the error above
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def write_dir_atomic(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary_dir)`` to fill a fresh directory, then swap it in for ``target``.

    POSIX cannot ``os.replace`` onto a non-empty directory, so an existing target is first
    renamed aside to ``.old-*``; ``recover_dir`` puts it back if a crash falls between the
    two renames.
    """
    temporary = target.with_name(f"{TEMP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}")
    old = target.with_name(f"{OLD_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}")
    try:
        with translated_errors(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary.mkdir()
            write(temporary)
            for child in temporary.iterdir():
                _fsync_path(child)
            _fsync_path(temporary)
            if target.exists():
                os.replace(target, old)
            os.replace(temporary, target)
            _fsync_path(target.parent)
    finally:
        if old.exists() and not target.exists():  # failed or interrupted between the two renames
            with contextlib.suppress(OSError):
                os.replace(old, target)
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def recover_dir(target: Path) -> None:
    """Clean up after a process killed inside ``write_dir_atomic`` for ``target``.

    Call it only while holding the lock for ``target``: partial ``.tmp-*`` builds are
    deleted; an ``.old-*`` copy is restored when the target itself is missing.
    """
    parent = target.parent
    if not parent.is_dir():
        return
    for leftover in parent.glob(f"{TEMP_PREFIX}{target.name}-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for old in sorted(parent.glob(f"{OLD_PREFIX}{target.name}-*")):
        if not target.exists():
            os.replace(old, target)
        else:
            shutil.rmtree(old, ignore_errors=True)
