"""The Latent explorer in a narrow window, in chromium: nothing of the live component is cut off.

At 700, 400 and 360 CSS pixels wide, every slider and value label of the explorer lies within the
viewport and within its column (the sliders' box, itself within the component), and so do the
plane and the digit. Screenshots: explorer-narrow-<width>.png in VAE_SCREENSHOT_DIR.
"""

from __future__ import annotations

import pytest

from tests.browser_support import RunTracker, full_page_screenshot, screenshot_dir
from tests.test_browser import REPO, RUN_TIMEOUT_MS, browser, dashboard  # noqa: F401

pytestmark = pytest.mark.browser

Z10 = "mnist-z10-h400-e12-b128-lr0.001-s0"
# [{what, left, right, top, bottom}] of the explorer's parts, in page pixels, from inside the component's shadow root.
BOXES_JS = """() => {
  const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('.vae-live.explorer'));
  const root = host.shadowRoot.querySelector('.vae-live.explorer');
  const box = (what, e) => { const r = e.getBoundingClientRect();
    return {what, left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; };
  return {
    root: box('component', root),
    column: box('sliders', root.querySelector('.sliders')),
    parts: [...root.querySelectorAll('.sliders input[type=range]')].map((e, k) => box(`slider ${k}`, e))
      .concat([...root.querySelectorAll('.sliders .slider-value')].map((e, k) => box(`value ${k}`, e)))
      .concat([...root.querySelectorAll('.sliders .slider-label')].map((e, k) => box(`label ${k}`, e))),
    pictures: [...root.querySelectorAll('canvas.plane, canvas.digit')].map((e) => box(e.className, e))
      .filter((b) => b.width > 0),
  };
}"""


def within(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return inner["left"] >= outer["left"] - slack and inner["right"] <= outer["right"] + slack


@pytest.mark.parametrize("width", [700, 400, 360])
def test_the_explorers_sliders_fit_a_narrow_window(browser, dashboard, width):  # noqa: F811
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    tracker = RunTracker(page)
    try:
        page.goto(f"{dashboard.url}/explorer?model={Z10}")
        tracker.wait_after(0, RUN_TIMEOUT_MS)
        page.wait_for_function("() => (globalThis.__vaeLiveDecoder?.models.size ?? 0) > 0", timeout=RUN_TIMEOUT_MS)
        page.locator(".vae-live.explorer input[type=range]").first.wait_for(timeout=RUN_TIMEOUT_MS)
        tracker.wait_quiet(1000, RUN_TIMEOUT_MS)
        full_page_screenshot(page, screenshot_dir(REPO) / f"explorer-narrow-{width}.png")
        boxes = page.evaluate(BOXES_JS)
        window = {"left": 0, "right": width}
        assert len([p for p in boxes["parts"] if p["what"].startswith("slider")]) == 8  # 8 sliders shown at first
        cut = [p for p in [boxes["root"], boxes["column"], *boxes["parts"], *boxes["pictures"]]
               if not within(p, window)]
        assert not cut, f"cut off at the window's edge ({width} px): {cut}"
        outside = [p for p in boxes["parts"] if not within(p, boxes["column"])]
        assert not outside and within(boxes["column"], boxes["root"]), f"outside their column: {outside}"
        assert all(p["width"] > 0 for p in boxes["parts"])
        assert all(within(p, boxes["root"]) for p in boxes["pictures"]), boxes["pictures"]
    finally:
        page.context.close()
