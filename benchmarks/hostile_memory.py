"""The dashboard server's memory with hostile files in the checkpoint folder, against the target.

    VAE_DATA_DIR=../shared/data python benchmarks/hostile_memory.py [--checkpoint-dir checkpoints]

Builds two temporary roots from the shipped checkpoints (hard links: same bytes, no disk): the
baseline, and the same plus one folder per hostile file of fault-matrix rows 25-33 (an .npz bomb
that really inflates, one whose header alone lies, a non-zip .npz, deep and huge-integer JSON, a
NaN loss, a 100,000-row history, a sparse safetensors declaring gigabytes, a link out of the root).
For each root it runs `streamlit run dashboard/app.py` and Debian's chromium, opens
`/latent-map?model=NAME` for the first shipped model and then (hostile root) for every hostile
folder, and polls the server's RSS with psutil every 20 ms. Prints the baseline's peak, the peak
after each hostile page, and the verdict against the target: at most 200 MB above the baseline.
The machine is shared: its load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import RunTracker, StreamlitServer, launch_chromium  # noqa: E402
from tests.faults.test_hostile_files import (  # noqa: E402
    mlp_shapes,
    nested_json,
    sparse_safetensors,
    write_npz_bomb,
)
from vae_core import store  # noqa: E402

TARGET_MB = 200.0
RUN_TIMEOUT_MS = 180_000
BASE_MODEL = "mnist-z2-h400-e12-b128-lr0.001-s0"


def link_tree(source: Path, target: Path) -> None:
    target.mkdir()
    for file in source.iterdir():
        try:
            os.link(file, target / file.name)
        except OSError:
            shutil.copy2(file, target / file.name)


def replace(folder: Path, name: str, write) -> None:
    """Put a hostile file ``name`` in ``folder`` (unlinked first: the shipped file keeps its bytes)."""
    (folder / name).unlink(missing_ok=True)
    write(folder / name)


def _history(loss: str):
    def write(path: Path) -> None:
        rows = json.loads((ROOT / "checkpoints" / BASE_MODEL / store.HISTORY_FILE).read_text())
        rows[-1]["test_loss"] = "@@"
        path.write_text(json.dumps(rows).replace('"@@"', loss))
    return write


def _long_history(path: Path) -> None:
    row = json.loads((ROOT / "checkpoints" / BASE_MODEL / store.HISTORY_FILE).read_text())[0]
    path.write_text(json.dumps([{**row, "epoch": i} for i in range(1, 100_001)]))


HOSTILE = {
    "bomb-inflating": (store.PROJECTIONS_FILE, lambda p: write_npz_bomb(p, 50_000_000, deflated_zeros=True)),
    "bomb-declared": (store.PROJECTIONS_FILE, lambda p: write_npz_bomb(p, 250_000_000, deflated_zeros=False)),
    "npz-not-zip": (store.PROJECTIONS_FILE, lambda p: p.write_bytes(b"PK\x03\x04" + bytes(100))),
    "metrics-deep": (store.METRICS_FILE, lambda p: p.write_text(nested_json(200_000))),
    "metrics-400-digits": (store.METRICS_FILE,
                           lambda p: p.write_text('{"metrics_version": 1, "elbo": {"loss": ' + "9" * 400 + "}}")),
    "config-deep": (store.CONFIG_FILE, lambda p: p.write_text(nested_json(10_000))),
    "history-5000-digits": (store.HISTORY_FILE, _history("9" * 5000)),
    "history-nan": (store.HISTORY_FILE, _history("NaN")),
    "history-100000-rows": (store.HISTORY_FILE, _long_history),
    "weights-sparse-3gb": (store.MODEL_FILE, lambda p: sparse_safetensors(
        p, {**mlp_shapes(400), "encoder_hidden.weight": (400, 2_000_000)})),
}


def build_roots(shipped: Path, into: Path) -> tuple[Path, Path]:
    baseline, hostile = into / "baseline", into / "hostile"
    for root in (baseline, hostile):
        root.mkdir()
        for checkpoint in store.scan(shipped)[0]:
            link_tree(checkpoint.path, root / checkpoint.name)
    for name, (filename, write) in HOSTILE.items():
        link_tree(shipped / BASE_MODEL, hostile / name)
        replace(hostile / name, filename, write)
    outside = into / "outside"
    outside.mkdir()
    link_tree(shipped / BASE_MODEL, outside / BASE_MODEL)
    (hostile / "linked-out").symlink_to(outside / BASE_MODEL, target_is_directory=True)
    return baseline, hostile


class PeakRss:
    """The largest RSS a process reaches, polled in a thread."""

    def __init__(self, pid: int):
        import psutil

        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except Exception:  # noqa: BLE001 - the server ended: the peak stays what it was
                return
            time.sleep(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def visit(page, tracker: RunTracker, url: str, model: str) -> int:
    """Open the Latent map of ``model``; returns how many exception boxes the page shows."""
    before = tracker.finished
    page.goto(f"{url}/latent-map?model={model}")
    tracker.wait_after(before, RUN_TIMEOUT_MS)
    page.wait_for_timeout(1500)  # the component's report after drawing, and its rerun
    return page.locator("[data-testid='stException']").count()


def measure(root: Path, names: list[str], log_dir: Path) -> list[tuple[str, float, int]]:
    """[(model, server peak RSS in MB after its page, exceptions shown)] for each name in turn."""
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(root)}
    server = StreamlitServer(ROOT / "dashboard" / "app.py", log_dir, env)
    results = []
    try:
        server.wait_healthy(120)
        rss = PeakRss(server.process.pid)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            tracker = RunTracker(page)
            for name in names:
                errors = visit(page, tracker, server.url, name)
                results.append((name, rss.peak / 2**20, errors))
            browser.close()
        rss.stop()
    finally:
        server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint-dir", default=str(ROOT / "checkpoints"))
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="hostile-memory-") as folder:
        baseline, hostile = build_roots(Path(args.checkpoint_dir), Path(folder))
        base = measure(baseline, [BASE_MODEL], Path(folder))
        base_peak = base[-1][1]
        print(f"baseline (shipped checkpoints only), /latent-map?model={BASE_MODEL}: peak RSS {base_peak:.0f} MB")
        results = measure(hostile, [BASE_MODEL, *HOSTILE, "linked-out"], Path(folder))
    worst = 0.0
    for name, peak, errors in results:
        worst = max(worst, peak - base_peak)
        print(f"  after /latent-map?model={name:<22} peak RSS {peak:6.0f} MB ({peak - base_peak:+5.0f} MB), "
              f"{errors} exception box(es) on the page")
    verdict = "ok" if worst <= TARGET_MB and all(e == 0 for _, _, e in results) else "OVER TARGET"
    print(f"hostile files: peak RSS at most {worst:+.0f} MB over the baseline (target <= {TARGET_MB:.0f} MB): "
          f"{verdict}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
