"""Server memory per hostile upload on Your digit, through chromium.

    python benchmarks/upload_memory.py [--checkpoint-dir checkpoints] [--sessions 4]

Runs `streamlit run dashboard/app.py` on the checkpoints (VAE_DATA_DIR passed through) and
drives Debian's chromium to /your-digit, where each file of tests/hostile_uploads.py is
uploaded through the page's file input: a 4096 x 4096 1-bit PNG, a 1.5 MB text chunk, 40
inflating text chunks, a 30000 x 30000 bomb and a 150 MB file. For each it prints the
server's resident memory (its process tree, sampled every 10 ms) before the upload and its
peak while the page read it (goal: at most +100 MB each). Then the 1-bit PNG is uploaded in
``--sessions`` tabs at once. The machine is shared: its load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from tests.browser_support import RunTracker, StreamlitServer, launch_chromium  # noqa: E402
from tests.hostile_uploads import DIGIT_SHOWN, GROWTH_BOUND_MB, HOSTILE, MB, TreeRss, upload  # noqa: E402

RUN_TIMEOUT_MS = 120_000


def open_your_digit(browser: Browser, url: str):
    """A new tab on /your-digit, drawn once; (page, its run tracker)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    tracker = RunTracker(page)
    page.goto(f"{url}/your-digit")
    tracker.wait_quiet(quiet_ms=1500, timeout_ms=RUN_TIMEOUT_MS)
    return page, tracker


def each_hostile_file(browser: Browser, url: str, rss: TreeRss, folder: Path) -> bool:
    """Upload every hostile file in one tab; print its memory; True when all kept within the bound."""
    page, tracker = open_your_digit(browser, url)
    within = True
    print(f"{'upload':<22} {'size':>13} {'RSS before':>11} {'peak':>9} {'growth':>8}  page shows")
    for hostile in HOSTILE:
        path = folder / hostile.name
        hostile.write(path)
        before, peak = upload(page, tracker, rss, path, hostile, RUN_TIMEOUT_MS)
        growth = (peak - before) / MB
        within &= growth <= GROWTH_BOUND_MB
        print(f"{hostile.name:<22} {path.stat().st_size:>13,} {before / MB:>8.0f} MB {peak / MB:>6.0f} MB "
              f"{growth:>+5.0f} MB  {hostile.expected!r}")
    page.close()
    return within


def one_file_in_many_tabs(browser: Browser, url: str, rss: TreeRss, folder: Path, sessions: int) -> bool:
    """The 1-bit 4096 x 4096 PNG uploaded in ``sessions`` tabs, one after another without waiting."""
    hostile = next(h for h in HOSTILE if h.expected == DIGIT_SHOWN)
    path = folder / hostile.name
    hostile.write(path)
    tabs = [open_your_digit(browser, url) for _ in range(sessions)]
    before = rss.reset_peak()
    finished = [tracker.finished for _, tracker in tabs]
    for page, _ in tabs:
        page.locator("input[type=file]").set_input_files(str(path))
    for (page, tracker), seen in zip(tabs, finished, strict=True):
        tracker.wait_after(seen, RUN_TIMEOUT_MS)
        page.get_by_text(DIGIT_SHOWN).first.wait_for(timeout=RUN_TIMEOUT_MS)
    growth = (rss.peak - before) / MB
    print(f"{hostile.name} in {sessions} tabs at once: {before / MB:.0f} MB before, peak {rss.peak / MB:.0f} MB "
          f"({growth:+.0f} MB)")
    return growth <= GROWTH_BOUND_MB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint-dir", type=Path, default=ROOT / "checkpoints")
    parser.add_argument("--sessions", type=int, default=4)
    args = parser.parse_args()
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(args.checkpoint_dir.resolve())}
    with tempfile.TemporaryDirectory() as folder:
        server = StreamlitServer(ROOT / "dashboard" / "app.py", Path(folder), env)
        try:
            server.wait_healthy(60)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                rss = TreeRss(server.process.pid)
                print(f"load average before: {os.getloadavg()[0]:.2f}")
                within = each_hostile_file(browser, server.url, rss, Path(folder))
                within &= one_file_in_many_tabs(browser, server.url, rss, Path(folder), args.sessions)
                print(f"load average after: {os.getloadavg()[0]:.2f}")
                rss.close()
                browser.close()
        finally:
            server.stop()
    print(f"goal: at most +{GROWTH_BOUND_MB} MB per upload: {'met' if within else 'NOT met'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
