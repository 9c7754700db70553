"""What a person feels on the Latent explorer: the live (in-page) decoder, measured from outside the page.

    python benchmarks/browser_latency.py [--checkpoint-dir checkpoints] [--presses 30] [--hovers 30]

Runs `streamlit run` on the checkpoints and drives Debian's chromium. For the first model, the
MLP at z = 20 (or the largest below it) and the conv VAE at z = 20 when shipped, it measures
from outside the page:
  1. new decoded digits seen during a 2-second continuous mouse drag of the first latent slider
     (goal >= 30): after each mouse step the digit is read back from its canvas and counted
     when it differs from the last look; also how many animation frames the page drew a new
     digit in, counted by a requestAnimationFrame probe that reads the canvas;
  2. key press (ArrowRight on the focused slider) -> digit pixels changed: p50 / p95 (goal p95 <= 50 ms);
  3. pointer move over the latent plane -> decoded digit changed: p50 / p95 (goal p95 <= 50 ms);
  4. slider release -> the server's caption of the point updated (the reading follows it):
     p50 / p95, the one round trip left.
Times are Python's clock around Playwright calls, so they include the browser round trips.
The machine is shared: its load average is printed with the numbers. benchmarks/rgb_latency.py measures an RGB
32 x 32 conv decoder with these functions, reading the whole picture (``PICTURE_HASH_JS``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser_support import LIVE_DIGIT_HASH_JS, RunTracker, dashboard_in_chromium, percentiles  # noqa: E402

DRAG_SECONDS = 2.0
FRAMES_GOAL = 30
LATENCY_GOAL_MS = 50.0
RUN_TIMEOUT_MS = 120_000

# The server's caption of the point it last heard (its reading follows in the same rerun).
CAPTION_JS = """() => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
  .map((c) => c.innerText).find((t) => t.startsWith('Decoded ')) ?? ''"""
# A fingerprint of the live explorer's whole picture, every colour channel at the canvas' own size (LIVE_DIGIT_HASH_JS
# reads MNIST's 28 x 28 grey levels: a change elsewhere in a larger or RGB picture would go unseen).
PICTURE_HASH_JS = """() => {
  const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('.vae-live.explorer'));
  const canvas = host?.shadowRoot.querySelector('.vae-live.explorer canvas.digit');
  if (!canvas) return '';
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < data.length; i++) if (i % 4 !== 3) hash = (hash * 31 + data[i]) | 0;
  return `${canvas.width}:${hash}`;
}"""
# Counts the animation frames in which the live digit's pixels differ from the frame before.
FRAME_PROBE_JS = """() => {
  const read = LIVE_DIGIT;
  const probe = { frames: 0, changed: 0, last: read(), running: true };
  const tick = () => {
    if (!probe.running) return;
    const now = read();
    probe.frames += 1;
    if (now !== probe.last) { probe.changed += 1; probe.last = now; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  globalThis.__frameProbe = probe;
}"""


def verdict(ok: bool) -> str:
    return "meets the goal" if ok else "MISSES the goal"


def wait_changed(page: Page, digit_js: str, before: str, timeout_s: float = 10.0) -> float:
    """Poll the digit from outside until it differs from ``before``; the time it took, in seconds."""
    start = time.perf_counter()
    page.wait_for_function(f"(before) => {{ const now = ({digit_js})(); return now !== '' && now !== before; }}",
                           arg=before, polling="raf", timeout=timeout_s * 1000)
    return time.perf_counter() - start


class Explorer:
    """One tab on the Latent explorer with a chosen model, its weights in the page; ``digit_js`` fingerprints the
    live picture."""

    def __init__(self, page: Page, url: str, model_label: str, digit_js: str = LIVE_DIGIT_HASH_JS):
        self.page = page
        self.digit_js = digit_js
        self.tracker = RunTracker(page)
        page.goto(f"{url}/explorer?model={quote(model_label)}")  # the sidebar below if the link did not pick it
        self.tracker.wait_after(0, RUN_TIMEOUT_MS)
        heading = page.get_by_test_id("stMain").locator("h1").first
        if not heading.inner_text().endswith(model_label):
            self.settle(lambda: self.choose(model_label))
            # the run settle saw may be the live view's report of its weights: wait for the model's page too
            expect(heading).to_have_text(re.compile(re.escape(model_label) + "$"), timeout=RUN_TIMEOUT_MS)
        page.wait_for_function("() => (globalThis.__vaeLiveDecoder?.models.size ?? 0) > 0", timeout=RUN_TIMEOUT_MS)
        page.wait_for_timeout(500)
        self.slider = page.locator(".vae-live input[type=range]").first  # its box is the track, z = 0 mid-track
        self.slider.wait_for(timeout=RUN_TIMEOUT_MS)

    def choose(self, label: str) -> None:
        self.page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(
            has_text="Model").click()
        self.page.get_by_role("option", name=label, exact=True).click()

    def settle(self, action) -> None:
        runs = self.tracker.finished
        action()
        self.tracker.wait_after(runs, RUN_TIMEOUT_MS)

    def digit(self) -> str:
        return self.page.evaluate(self.digit_js)

    def drag(self) -> tuple[int, int, int, int]:
        """(new digits seen from outside, looks, animation frames with a new digit, animation frames) in a drag."""
        page, thumb = self.page, self.slider.bounding_box()
        x, y, width = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2, thumb["width"]
        page.evaluate(FRAME_PROBE_JS.replace("LIVE_DIGIT", self.digit_js))
        last, changes, samples = self.digit(), 0, 0
        page.mouse.move(x, y)
        page.mouse.down()
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < DRAG_SECONDS:
            page.mouse.move(x + elapsed / DRAG_SECONDS * 0.3 * width, y)  # one way across 30 % of the track
            now, samples = self.digit(), samples + 1
            changes += now not in ("", last)
            last = now or last
        page.mouse.up()
        probe = page.evaluate("() => { const p = globalThis.__frameProbe; p.running = false; return p; }")
        page.wait_for_timeout(1500)  # let the release's rerun finish before the next measurement
        return changes, samples, probe["changed"], probe["frames"]

    def key_presses(self, count: int) -> tuple[list[float], list[float]]:
        """(key press -> new pixels, key press -> the server's caption of the new point) in seconds."""
        pixels, captions = [], []
        self.slider.focus()
        for k in range(count):
            before, caption = self.digit(), self.page.evaluate(CAPTION_JS)
            key = "ArrowLeft" if (k // 5) % 2 == 0 else "ArrowRight"  # the drag left the thumb right of centre
            self.page.keyboard.press(key)
            pixels.append(wait_changed(self.page, self.digit_js, before))
            captions.append(pixels[-1] + wait_changed(self.page, CAPTION_JS, caption))  # the pause report's rerun
            self.page.wait_for_timeout(100)
        return pixels, captions

    def hovers(self, count: int, seed: int = 0) -> list[float]:
        plane = self.page.locator(".vae-live canvas.plane")
        box = plane.bounding_box()
        rng = np.random.default_rng(seed)
        times = []
        for _ in range(count):
            before = self.digit()
            u, v = rng.uniform(0.1, 0.9, size=2)
            self.page.mouse.move(box["x"] + u * box["width"], box["y"] + v * box["height"])
            times.append(wait_changed(self.page, self.digit_js, before))
        self.page.mouse.move(box["x"] - 20, box["y"] - 20)
        return times


def model_labels(checkpoint_dir: Path) -> list[str]:
    """The sidebar labels of the first model, the MLP at z = 20 (or the largest MLP below it) and,
    when there is one, the conv VAE at z = 20: the models of the first data set."""
    from dashboard.shell.tables import model_label
    from vae_core import store

    checkpoints, _ = store.scan(checkpoint_dir)
    if not checkpoints:
        raise SystemExit(f"no checkpoints in {checkpoint_dir}")
    mine = [c for c in checkpoints if c.train_config.dataset == checkpoints[0].train_config.dataset]
    plain = [c for c in mine if c.train_config.beta == 1]
    mlps = [c for c in plain if c.model_config.architecture == "mlp" and c.model_config.latent_dim <= 20]
    convs = [c for c in plain if c.model_config.architecture == "conv" and c.model_config.latent_dim == 20]
    chosen = [mine[0], *(mlps[-1:]), *convs]
    return list(dict.fromkeys(model_label(c, mine) for c in chosen))


def measure(browser, url: str, label: str, presses: int, hovers: int, digit_js: str = LIVE_DIGIT_HASH_JS) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        explorer = Explorer(context.new_page(), url, label, digit_js)
        explorer.drag()  # warm: first decode, first release rerun
        seen, looks, drawn, frames = explorer.drag()
        keys, heard = explorer.key_presses(presses)
        return {"seen": seen, "looks": looks, "drawn": drawn, "frames": frames, "keys": keys, "heard": heard,
                "hover": explorer.hovers(hovers)}
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint-dir", type=Path, default=ROOT / "checkpoints")
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--hovers", type=int, default=30)
    args = parser.parse_args()
    labels = model_labels(args.checkpoint_dir)
    with dashboard_in_chromium(args.checkpoint_dir) as (url, browser):
        for label in labels:
            live = measure(browser, url, label, args.presses, args.hovers)
            print(f"\n{label}")
            print(f"  drag {DRAG_SECONDS:.0f} s, new digits seen: {live['seen']:4d} in {live['looks']} looks   "
                  f"goal >= {FRAMES_GOAL}: {verdict(live['seen'] >= FRAMES_GOAL)}")
            print(f"  the page drew a new digit in {live['drawn']} of {live['frames']} animation frames")
            print(f"  key press -> new pixels:            {percentiles(live['keys'])}   "
                  f"{verdict(np.percentile(live['keys'], 95) * 1000 <= LATENCY_GOAL_MS)}")
            print(f"  key press -> server's caption:      {percentiles(live['heard'])}   (Python hears it)")
            print(f"  pointer over the plane -> new digit: {percentiles(live['hover'])}   "
                  f"{verdict(np.percentile(live['hover'], 95) * 1000 <= LATENCY_GOAL_MS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
