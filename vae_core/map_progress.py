"""Who computes a checkpoint's slow maps (t-SNE, UMAP) right now, and how far along it is.

A model is explorable as soon as it is saved with its quick maps (PCA); its slow maps follow in
the background. The process computing them holds a lock and writes a small progress file, both
under ``ROOT/.maps`` (a dot folder: the checkpoint scan skips it), so a page can say
"t-SNE: computing, 40 %" and pick the map up when it lands. The lock, not the file, says whether
anyone is at work: the OS drops a dead process's lock, so a killed worker never leaves a page
waiting for ever.

    with MapWork(root, name) as work:   # None-safe: ``busy`` when another process holds it
        work.step("t-SNE", 0.0)
        ...
    status = map_status(root, name)     # None when nobody computes this checkpoint's maps
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

FOLDER = ".maps"
MAX_STATUS_BYTES = 4096  # a progress file is a few dozen bytes; anything larger is not ours


@dataclass(frozen=True)
class MapStatus:
    """The slow maps of one checkpoint being computed: the map now (``'t-SNE'``), how far (0-1 or None)."""

    step: str
    fraction: float | None
    started: float  # time.time() when this step began

    def words(self) -> str:
        """'t-SNE: computing, 40 %', or 't-SNE: computing' when its progress is not known (or not begun)."""
        share = f", {self.fraction:.0%}" if self.fraction else ""
        return f"{self.step}: computing{share}"


def _paths(root: Path, name: str) -> tuple[Path, Path]:
    folder = Path(root) / FOLDER
    return folder / f"{name}.lock", folder / f"{name}.json"


class MapWork:
    """Held by the process computing ``name``'s slow maps; ``step`` publishes where it is."""

    def __init__(self, root: Path, name: str):
        from filelock import FileLock

        self.lock_path, self.status_path = _paths(root, name)
        self.lock = FileLock(str(self.lock_path))
        self.busy = False  # True: another process computes these maps; this one should not
        self._step: tuple[str, float] | None = None

    def __enter__(self) -> MapWork:
        from filelock import Timeout

        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            self.lock.acquire(timeout=0)
        except Timeout:
            self.busy = True
        except OSError:  # a read-only root: the maps are still computed, the pages just cannot follow them
            self.lock = None
        return self

    def step(self, step: str, fraction: float | None = None) -> None:
        """Say that ``step`` ('t-SNE', 'UMAP') is ``fraction`` done (None: unknown)."""
        if self.lock is None or self.busy:
            return
        if self._step is None or self._step[0] != step:
            self._step = (step, time.time())
        text = json.dumps({"step": step, "fraction": fraction, "started": self._step[1]})
        temporary = self.status_path.with_name(f".tmp-{os.getpid()}-{self.status_path.name}")
        try:
            temporary.write_text(text)
            os.replace(temporary, self.status_path)
        except OSError:
            temporary.unlink(missing_ok=True)

    def __exit__(self, *exc) -> None:
        if self.lock is not None and not self.busy:
            self.status_path.unlink(missing_ok=True)
            self.lock.release()


def map_status(root: Path, name: str) -> MapStatus | None:
    """Where ``name``'s slow maps are, while a live process computes them; None when none does."""
    from filelock import FileLock, Timeout

    lock_path, status_path = _paths(root, name)
    if not lock_path.exists():
        return None
    probe = FileLock(str(lock_path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        pass  # held: someone is at work
    except OSError:
        return None
    else:
        probe.release()
        return None
    try:
        if status_path.stat().st_size > MAX_STATUS_BYTES:
            return MapStatus("maps", None, time.time())
        data = json.loads(status_path.read_text())
        fraction = data.get("fraction")
        fraction = min(max(float(fraction), 0.0), 1.0) if isinstance(fraction, int | float) else None
        return MapStatus(str(data["step"])[:40], fraction, float(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):  # not written yet, or not ours
        return MapStatus("maps", None, time.time())


# --- how long each step took on this machine: the Train page's estimate -------------------------

TIMINGS = "timings.jsonl"
TIMINGS_KEPT = 60  # the newest lines kept: enough for a median per step, small enough to read on every page run
TIMINGS_MAX_BYTES = 16_384
RECENT = 9  # the median of this many newest runs of a step: one slow run on a busy machine does not move it


def record_time(root: Path, step: str, seconds: float, cold: bool = False) -> None:
    """Remember that ``step`` ('t-SNE', 'UMAP', 'UMAP start', 'metrics') took ``seconds`` here; never fails the work.

    ``cold``: it ran beside a new process's first UMAP (numba's kernels loading), which slows it.
    """
    path = Path(root) / FOLDER / TIMINGS
    row = {"step": step, "seconds": round(seconds, 2)} | ({"cold": True} if cold else {})
    lines = _timing_lines(path)[-(TIMINGS_KEPT - 1):] + [json.dumps(row)]
    temporary = path.with_name(f".tmp-{os.getpid()}-{TIMINGS}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text("\n".join(lines) + "\n")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)


def typical_seconds(root: Path, step: str, cold: bool | None = None) -> float | None:
    """The median time of the newest ``RECENT`` runs of ``step`` on this machine; None before the first.

    ``cold`` True or False prefers the runs made beside (or away from) a process's first UMAP, and takes
    the others when there are none of that kind yet.
    """
    import statistics

    rows = []
    for line in _timing_lines(Path(root) / FOLDER / TIMINGS):
        try:
            row = json.loads(line)
            if row["step"] == step and 0 <= float(row["seconds"]) < 1e6:
                rows.append((float(row["seconds"]), row.get("cold") is True))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    alike = [seconds for seconds, was_cold in rows if cold is None or was_cold == cold]
    seconds = alike or [seconds for seconds, _ in rows]
    return statistics.median(seconds[-RECENT:]) if seconds else None


def _timing_lines(path: Path) -> list[str]:
    try:
        if path.stat().st_size > TIMINGS_MAX_BYTES:
            return []
        return [line for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return []
