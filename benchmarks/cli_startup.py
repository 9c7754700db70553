"""How long the CLI takes to start, against `python -c pass` in the same run.

    .venv/bin/python benchmarks/cli_startup.py [--runs 7] [--checkpoint-dir checkpoints]

Times `vae-explorer --help` (goal <= 0.5 s) and `vae-explorer list` (goal <= 1.5 s) as fresh
processes, interleaved with a bare interpreter start so machine load hits all three alike,
and prints the median of each, its difference from the bare start, and which heavy modules
each command imported (torch, torchvision, sklearn).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"--help": 0.5, "list": 1.5}
HEAVY = ("torch", "torchvision", "sklearn", "pandas", "streamlit")
IMPORTED = "import sys, runpy; sys.argv = ['vae-explorer', *{args!r}]\n" \
           "try:\n    runpy.run_module('vae_core', run_name='__main__')\nexcept SystemExit:\n    pass\n" \
           "print(','.join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)"


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=ROOT)
    return time.perf_counter() - started


def heavy_modules(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-c", IMPORTED.format(args=args, heavy=HEAVY)], capture_output=True,
                          text=True, cwd=ROOT)
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--checkpoint-dir", default=str(ROOT / "checkpoints"))
    args = parser.parse_args()
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "--help": [sys.executable, "-m", "vae_core", "--help"],
                "list": [sys.executable, "-m", "vae_core", "list", "--checkpoint-dir", args.checkpoint_dir]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved
        for name, command in commands.items():
            times[name].append(seconds(command))
    bare = statistics.median(times["python -c pass"])
    print(f"bare interpreter start (python -c pass): {bare:.3f} s, median of {args.runs}")
    for name, goal in GOALS.items():
        median = statistics.median(times[name])
        extra = ["--checkpoint-dir", args.checkpoint_dir] if name == "list" else []
        verdict = "meets" if median <= goal else "MISSES"
        print(f"vae-explorer {name:<6}: {median:.3f} s ({median - bare:+.3f} s over the bare start), goal <= {goal} s: "
              f"{verdict} the goal; heavy modules imported: {heavy_modules([name, *extra]) or 'none'}")


if __name__ == "__main__":
    main()
