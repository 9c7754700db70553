"""Imports started from the dashboard: an uploaded state_dict made a checkpoint by a process of its own.

The page checks the upload at once (``importing.read_tutorial_vae``, the name), so a refusal is
one line and nothing is kept; an accepted file goes to ``ROOT/.imports/NAME/`` and a background
process (``python -m vae_core.import_runs FOLDER``) runs ``vae-explorer import`` on it with its
maps, so the page does not wait the minute its test loss and t-SNE take. The folder holds:

    <the uploaded file>   kept under its own name: the checkpoint's config.json records that name
    args.json             the import's command line (after ``vae-explorer import``)
    log.txt               what the import printed, one step a line
    status                its exit status, once it has ended

The process has a session of its own, so a closed terminal or a stopped server leaves it running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

IMPORTS_DIR = ".imports"
LOG_TAIL_BYTES = 8192  # the page reads at most this much of a log


@dataclass(frozen=True)
class ImportRun:
    """One import started from the dashboard, read from its folder."""

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def status(self) -> int | None:
        """The import's exit status, None while it runs (or when it died before writing one)."""
        try:
            return int((self.folder / "status").read_text(encoding="utf-8")[:16].strip())
        except (OSError, ValueError):
            return None

    def lines(self) -> list[str]:
        """The last lines of what the import printed (at most ``LOG_TAIL_BYTES`` read)."""
        try:
            with open(self.folder / "log.txt", "rb") as handle:
                handle.seek(max(0, handle.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
                return handle.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []


def runs(root: Path) -> list[ImportRun]:
    """The imports started from the dashboard under ``root``, newest first."""
    folder = Path(root) / IMPORTS_DIR
    try:
        found = [ImportRun(path) for path in folder.iterdir() if path.is_dir()]
    except OSError:
        return []
    return sorted(found, key=lambda run: run.folder.stat().st_mtime, reverse=True)


def stage(root: Path, name: str, file_name: str, data: bytes) -> Path:
    """Write an upload to ``ROOT/.imports/NAME/FILE`` (an earlier import of that name is replaced); its path."""
    folder = Path(root) / IMPORTS_DIR / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / Path(file_name).name
    path.write_bytes(data)
    return path


def rename(path: Path, name: str) -> Path:
    """Move a staged upload's folder to ``ROOT/.imports/NAME`` (an earlier import of that name is replaced)."""
    folder = path.parent.parent / name
    shutil.rmtree(folder, ignore_errors=True)
    path.parent.rename(folder)
    return folder / path.name


def discard(path: Path) -> None:
    """Remove a staged upload's folder (a refused file keeps nothing)."""
    shutil.rmtree(path.parent, ignore_errors=True)


def start(root: Path, path: Path, name: str, dataset: str, force: bool = False) -> ImportRun:
    """Run ``vae-explorer import`` on the staged ``path`` in a background process of its own session."""
    folder = path.parent
    args = [str(path), "--name", name, "--dataset", dataset, "--checkpoint-dir", str(root)] + (["--force"] * force)
    (folder / "args.json").write_text(json.dumps(args), encoding="utf-8")
    with open(folder / "log.txt", "wb") as log:
        subprocess.Popen([sys.executable, "-m", "vae_core.import_runs", str(folder)], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, close_fds=True, start_new_session=True)
    return ImportRun(folder)


def _run(folder: Path) -> int:
    """The background process: the import with the arguments the page wrote, then its exit status."""
    from .cli import main

    status = 1
    try:
        status = main(["import", *json.loads((folder / "args.json").read_text(encoding="utf-8"))])
    finally:
        (folder / "status").write_text(f"{status}\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(_run(Path(sys.argv[1])))
