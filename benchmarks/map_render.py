"""The Latent map's renderer at 10,000, 70,000 and 1,000,000 points, read from outside the page, in chromium.

    python benchmarks/map_render.py [--sizes 10000 70000 1000000] [--seconds 2]

Runs `streamlit run benchmarks/fixtures/map_render_app.py` (one map of N seeded synthetic points, the
component the dashboard's maps use) and drives Debian's chromium. For each size it prints:

- **first map**: page open -> the map's points on screen (its root's data-drawn set), cold (the first
  load of that size) and warm (a reload);
- **pan / zoom fps**: frames whose pixels changed per second during a continuous wheel zoom (in, then
  out) and a continuous drag (Pan mode, zoomed in first) of ``--seconds`` each. A loop at every animation
  frame hashes a 64 x 64 patch of the map's canvas (a pixel read, not the component's timers) and counts
  the frames that differ. The input events per second are printed beside it: Playwright sends the next
  one when the page has taken the last, so a busy page also gets fewer, as a reader's hand would. Its
  wheel answers about 30 times a second even on a small map, so the zoom is also driven by a wheel
  event dispatched on the canvas at every animation frame, and the drag by a pointer move dispatched at every
  animation frame after a real press;
- **memory**: the tab's used JS heap (CDP's Runtime.getHeapUsage) and the server's resident set.

The machine is shared: its load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser_support import StreamlitServer, launch_chromium  # noqa: E402

APP = ROOT / "benchmarks" / "fixtures" / "map_render_app.py"
TIMEOUT_MS = 600_000
MAP_ROOT_JS = """() => [...document.querySelectorAll('*')].map((e) => e.shadowRoot?.querySelector('.vae-canvas.map'))
  .find(Boolean)"""
DRAWN_JS = f"(key) => ({MAP_ROOT_JS})()?.dataset.drawn !== undefined && ({MAP_ROOT_JS})().dataset.model === key"
# Counts, at every animation frame, the frames whose centre patch differs from the frame before.
COUNTER_JS = f"""() => {{
  const root = ({MAP_ROOT_JS})();
  const canvas = [...root.querySelectorAll('canvas')].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  const context = canvas.getContext('2d', {{ willReadFrequently: true }});
  const state = {{ frames: 0, changed: 0, last: null, running: true }};
  const x = Math.floor(canvas.width / 2) - 32, y = Math.floor(canvas.height / 2) - 32;
  const tick = () => {{
    if (!state.running) return;
    const data = context.getImageData(x, y, 64, 64).data;
    let hash = 0;
    for (let i = 0; i < data.length; i += 4) hash = (hash * 31 + data[i] + 7 * data[i + 1] + 13 * data[i + 2]) | 0;
    state.frames += 1;
    if (state.last !== null && hash !== state.last) state.changed += 1;
    state.last = hash;
    requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
  globalThis.__renderCounter = state;
}}"""
# An input event on the map's canvas at every animation frame for ``seconds``: a wheel (in, then out), or, after a
# real press (Playwright's, so the map captures the pointer), a pointer move (there and back). Playwright's own wheel
# and moves wait for each event's round trip (about 30 a second even on a small map), which would cap what is measured.
EVERY_FRAME_JS = f"""([seconds, kind]) => new Promise((done) => {{
  const root = ({MAP_ROOT_JS})();
  const canvas = [...root.querySelectorAll('canvas')].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  const box = canvas.getBoundingClientRect();
  const [x, y] = [box.left + box.width / 2, box.top + box.height / 2];
  const started = performance.now();
  let events = 0;
  const tick = (now) => {{
    const elapsed = (now - started) / 1000;
    if (elapsed >= seconds) {{ done(events); return; }}
    const phase = elapsed < seconds / 2 ? 1 : -1;
    canvas.dispatchEvent(kind === 'wheel'
      ? new WheelEvent('wheel', {{ deltaY: -40 * phase, clientX: x, clientY: y, bubbles: true, cancelable: true }})
      : new PointerEvent('pointermove', {{ clientX: x + phase * 3 * (events % 40), clientY: y, pointerId: 1,
        pointerType: 'mouse', buttons: 1, bubbles: true, cancelable: true }}));
    events += 1;
    requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}})"""
STOP_JS = "() => { const s = globalThis.__renderCounter; s.running = false; return [s.frames, s.changed]; }"
CENTRE_JS = f"""() => {{
  const root = ({MAP_ROOT_JS})();
  const canvas = [...root.querySelectorAll('canvas')].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  const box = canvas.getBoundingClientRect();
  return [box.left + box.width / 2, box.top + box.height / 2];
}}"""


def first_map(page: Page, url: str, count: int) -> float:
    started = time.perf_counter()
    page.goto(f"{url}/?n={count}")
    page.wait_for_function(DRAWN_JS, arg=f"synthetic-{count}", polling="raf", timeout=TIMEOUT_MS)
    return time.perf_counter() - started


def moving(page: Page, seconds: float, gesture: str) -> tuple[float, float]:
    """(frames changed per second, input events per second) during ``seconds`` of a drag or a wheel zoom."""
    x, y = page.evaluate(CENTRE_JS)
    page.mouse.move(x, y)
    if gesture.startswith("drag"):  # the whole map cannot be panned: zoomed in first, as a reader would
        for _ in range(8):
            page.mouse.wheel(0, -100)
    page.wait_for_timeout(800)
    page.evaluate(COUNTER_JS)
    events, started = 0, time.perf_counter()
    if gesture == "wheel every frame":
        events = page.evaluate(EVERY_FRAME_JS, [seconds, "wheel"])
    if gesture == "drag every frame":
        page.mouse.down()
        events = page.evaluate(EVERY_FRAME_JS, [seconds, "drag"])
        page.mouse.up()
    if gesture == "drag":
        page.mouse.down()
    while not gesture.endswith("every frame") and (elapsed := time.perf_counter() - started) < seconds:
        phase = 1 if elapsed < seconds / 2 else -1  # there and back, so the view stays on the points
        if gesture == "drag":
            page.mouse.move(x + phase * 3 * (events % 40), y)
        else:
            page.mouse.wheel(0, -40 * phase)
        events += 1
    if gesture == "drag":
        page.mouse.up()
    elapsed = time.perf_counter() - started
    frames, changed = page.evaluate(STOP_JS)
    return changed / elapsed, events / elapsed


def memory(page: Page, server: StreamlitServer) -> tuple[float, float]:
    """(the tab's used JS heap, the server's resident set), MB."""
    session = page.context.new_cdp_session(page)
    heap = session.send("Runtime.getHeapUsage")["usedSize"] / 1e6
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1e3
    return heap, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 70_000, 1_000_000])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    server = StreamlitServer(APP, Path(os.environ.get("TMPDIR", "/tmp")), dict(os.environ))
    try:
        server.wait_healthy(60)
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for count in args.sizes:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                cold = first_map(page, server.url, count)
                warm = first_map(page, server.url, count)
                zoom, zoom_events = moving(page, args.seconds, "wheel")
                zoom_raf, raf_events = moving(page, args.seconds, "wheel every frame")
                pan, pan_events = moving(page, args.seconds, "drag")
                pan_raf, pan_raf_events = moving(page, args.seconds, "drag every frame")
                heap, rss = memory(page, server)
                print(f"{count:>9,} points: first map cold {cold:5.2f} s, warm {warm:5.2f} s | "
                      f"pan {pan:5.1f} fps ({pan_events:.0f} moves/s; "
                      f"{pan_raf:5.1f} fps given a move every frame) | zoom {zoom:5.1f} fps ({zoom_events:.0f} "
                      f"wheels/s; {zoom_raf:5.1f} fps given a wheel every frame, {raf_events:.0f}/s) | "
                      f"JS heap {heap:6.1f} MB, server RSS {rss:6.0f} MB", flush=True)
                page.close()
            browser.close()
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
