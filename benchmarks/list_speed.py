"""`vae-explorer list` over many checkpoints: wall time and peak memory, against the targets.

    python benchmarks/list_speed.py [--checkpoint-dir checkpoints] [--copies 200] [--runs 3]

Builds a temporary root holding ``--copies`` checkpoint folders, each a copy of one of the
shipped checkpoints in turn (hard links where the file system allows: same bytes, no disk),
then runs `vae-explorer list` in a fresh process ``--runs`` times. Prints the wall time of each
whole command (interpreter start and imports included) and the child's peak RSS, with the targets
(1 s, 300 MB). Listing reads each checkpoint's JSON files and the headers of its safetensors and
projections.npz, never the weights. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME_TARGET_S = 1.0
RSS_TARGET_MB = 300.0


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link of ``source`` at ``target``, or a copy where links cannot be made."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def build_root(shipped: Path, copies: int, into: Path) -> int:
    """``copies`` checkpoint folders under ``into``, cycling through the VAEs in ``shipped``; returns how many."""
    sys.path.insert(0, str(ROOT))
    from vae_core import store

    sources = [c.path for c in store.scan(shipped)[0]]
    if not sources:
        raise SystemExit(f"no checkpoints in {shipped}: pass --checkpoint-dir")
    for index in range(copies):
        source = sources[index % len(sources)]
        folder = into / f"{source.name}-copy{index:03d}"
        folder.mkdir()
        for file in source.iterdir():
            link_or_copy(file, folder / file.name)
    return copies


def timed_list(root: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, checkpoints listed) of one `vae-explorer list --json` in a new process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "vae_core", "list", "--json", "--checkpoint-dir", str(root)],
                            env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    import json

    listed = len(json.loads(result.stdout)["checkpoints"])
    # RUSAGE_CHILDREN's maxrss is the largest of the waited-for children so far (kB on Linux).
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, listed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint-dir", default=str(ROOT / "checkpoints"))
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="list-speed-") as folder:
        root = Path(folder)
        build_root(Path(args.checkpoint_dir), args.copies, root)
        for run in range(1, args.runs + 1):
            seconds, rss_mb, listed = timed_list(root)
            if listed != args.copies:
                raise SystemExit(f"listed {listed} of {args.copies} checkpoints")
            print(f"run {run}: `vae-explorer list` of {listed} checkpoints: {seconds:.2f} s "
                  f"(target <= {TIME_TARGET_S:.0f} s: {'ok' if seconds <= TIME_TARGET_S else 'OVER TARGET'}), "
                  f"peak RSS so far {rss_mb:.0f} MB "
                  f"(target <= {RSS_TARGET_MB:.0f} MB: {'ok' if rss_mb <= RSS_TARGET_MB else 'OVER TARGET'})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
