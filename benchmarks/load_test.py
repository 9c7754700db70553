"""A real-server load test: `streamlit run` on the shipped checkpoints, many chromium pages at once.

    .venv/bin/python benchmarks/load_test.py [--pages 10] [--seconds 60] [--checkpoint-dir checkpoints]

Each page (its own browser context, so its own Streamlit session) loops until the time is up:
it opens every page of the app by URL, switches the sidebar model, and on the Latent explorer
presses an arrow key on a latent slider and waits for the decoded digit's pixels to change.
Prints page loads, failed loads, exception boxes seen, the server's peak RSS (sampled every
0.2 s) and the slider-to-image latency p50 / p95 under that load. Bounded in time: every wait
has a timeout, and the run stops at --seconds plus one last round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, LIVE_DIGIT_HASH_JS, StreamlitServer  # noqa: E402

PAGES = ("explorer", "", "training", "generate", "reconstruct", "latent-map", "compare")  # explorer first: its keys
WAIT_MS = 60_000
SETTLED_JS = """() => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state')
  === 'notRunning' && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0"""


@dataclass
class Tally:
    loads: int = 0
    failed_loads: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    model_switches: int = 0


async def settled(page) -> None:
    await page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)


async def open_page(page, url: str, path: str, tally: Tally) -> bool:
    try:
        response = await page.goto(f"{url}/{path}", timeout=WAIT_MS)
        if response is None or response.status != 200:
            tally.failed_loads.append(f"{path or '/'}: HTTP {response.status if response else 'none'}")
            return False
        await page.get_by_test_id("stMain").locator("h1").first.wait_for(timeout=WAIT_MS)
        await settled(page)
    except Exception as error:  # a timeout or a closed page is a failed load, with its reason
        tally.failed_loads.append(f"{path or '/'}: {type(error).__name__}: {str(error).splitlines()[0][:120]}")
        return False
    tally.loads += 1
    boxes = page.get_by_test_id("stException")
    if await boxes.count():
        tally.exceptions.extend(text[:200] for text in await boxes.all_inner_texts())
    return True


async def switch_model(page, rng: np.random.Generator, tally: Tally) -> None:
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Model")
    await box.click()
    options = page.get_by_role("option")
    count = await options.count()
    if count:
        await options.nth(int(rng.integers(count))).click()
        await settled(page)
        tally.model_switches += 1


async def press_slider(page, tally: Tally, presses: int = 3) -> None:
    slider = page.locator(".vae-live input[type=range]").first
    await slider.wait_for(timeout=WAIT_MS)
    await page.wait_for_function("() => (globalThis.__vaeLiveDecoder?.models.size ?? 0) > 0", timeout=WAIT_MS)
    await slider.focus()
    for press in range(presses):
        before = await page.evaluate(LIVE_DIGIT_HASH_JS)
        started = time.perf_counter()
        await page.keyboard.press("ArrowLeft" if press % 2 else "ArrowRight")
        await page.wait_for_function(f"(before) => ({LIVE_DIGIT_HASH_JS})() !== before", arg=before, polling="raf",
                                     timeout=WAIT_MS)
        tally.latencies.append(time.perf_counter() - started)


async def visitor(browser, url: str, deadline: float, seed: int, tally: Tally) -> None:
    rng = np.random.default_rng(seed)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    try:
        while time.monotonic() < deadline:
            for path in PAGES:
                if not await open_page(page, url, path, tally):
                    continue
                try:
                    if path == "explorer":
                        await press_slider(page, tally)
                        await switch_model(page, rng, tally)
                        await press_slider(page, tally, presses=1)
                except Exception as error:
                    tally.failed_loads.append(f"{path} interaction: {type(error).__name__}: "
                                              f"{str(error).splitlines()[0][:120]}")
                if time.monotonic() >= deadline:
                    break
    finally:
        await context.close()


def watch_memory(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Sample the server's resident memory (with its children) until ``stop`` is set."""
    process = psutil.Process(pid)
    while not stop.is_set():
        try:
            rss = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
        except psutil.Error:
            break
        peak[0] = max(peak[0], rss)
        stop.wait(0.2)


async def run(url: str, pages: int, seconds: float) -> Tally:
    tally = Tally()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(visitor(browser, url, deadline, seed, tally) for seed in range(pages)))
        await browser.close()
    return tally


def load_test(checkpoint_dir: Path, pages: int, seconds: float, log_dir: Path) -> tuple[Tally, int, float]:
    """(tally, peak server RSS in bytes, wall seconds) of one run against a fresh `streamlit run`."""
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(checkpoint_dir.resolve())}
    server = StreamlitServer(ROOT / "dashboard" / "app.py", log_dir, env)
    stop, peak = threading.Event(), [0]
    try:
        server.wait_healthy(60)
        watcher = threading.Thread(target=watch_memory, args=(server.process.pid, stop, peak), daemon=True)
        watcher.start()
        started = time.monotonic()
        tally = asyncio.run(run(server.url, pages, seconds))
        wall = time.monotonic() - started
    finally:
        stop.set()
        server.stop()
    return tally, peak[0], wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--checkpoint-dir", type=Path, default=ROOT / "checkpoints")
    args = parser.parse_args()
    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    tally, peak, wall = load_test(args.checkpoint_dir, args.pages, args.seconds, log_dir)
    latencies = np.asarray(tally.latencies) * 1000
    print(f"{args.pages} chromium pages for {args.seconds:.0f} s ({wall:.0f} s wall), load average "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"  page loads: {tally.loads}, failed: {len(tally.failed_loads)}, exception boxes: {len(tally.exceptions)}, "
          f"model switches: {tally.model_switches}")
    print(f"  server peak RSS: {peak / 2**20:.0f} MiB")
    if len(latencies):
        print(f"  slider key press -> new digit pixels under load: p50 {np.percentile(latencies, 50):.1f} ms, "
              f"p95 {np.percentile(latencies, 95):.1f} ms (n = {len(latencies)})")
    for problem in (tally.failed_loads + tally.exceptions)[:10]:
        print(f"  problem: {problem}")
    return 1 if tally.failed_loads or tally.exceptions else 0


if __name__ == "__main__":
    sys.exit(main())
